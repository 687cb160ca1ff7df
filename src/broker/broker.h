// A broker of topics: each an ordered, durable log of messages with offsets from 0, made on
// first publish. Two backends behind this interface: EmbeddedBroker (files under the state
// folder) and JetStreamBroker (a NATS JetStream stream per topic). A subscription reads its
// topic through a Consumer, which remembers what was handled across restarts.
// Control-plane thread only: every callback runs on the loop.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "broker/message.h"
#include "store/store.h"

namespace gantry::broker {

// A subscription's progress, for the topics API (kept by the agent's delivery).
struct SubscriptionInfo {
  std::string topic;
  std::string service;
  uint64_t committed = 0;  // every message before it was acknowledged (or dead-lettered)
  uint64_t in_flight = 0;
  uint64_t delivered = 0;
  uint64_t redelivered = 0;
  uint64_t dead_lettered = 0;
};

// The messages of one topic for one consumer group, from where the group left off: at least
// once, as what was fetched but not acknowledged comes again after a restart.
class Consumer {
 public:
  virtual ~Consumer() = default;
  // Up to `max` messages after those fetched before (the first fetch starts at the committed
  // offset), in offset order, as soon as there is at least one. One fetch at a time; none is
  // answered once the consumer is gone.
  virtual void Fetch(size_t max, store::Done<std::vector<Message>> done) = 0;
  // `message` was handled (delivered, or dead-lettered): it does not come again.
  virtual void Ack(const Message& message) = 0;
  // Every offset before it is acknowledged.
  virtual uint64_t committed() const = 0;
};

class Broker {
 public:
  virtual ~Broker() = default;

  struct Outgoing {
    std::string id;   // "": one is made up
    std::string key;  // ordering key
    std::vector<std::pair<std::string, std::string>> headers;
    std::string payload;
  };
  struct Published {
    uint64_t offset = 0;
    std::string id;
    bool duplicate = false;  // the id was published before: nothing new was written
  };
  // InvalidArgument (topic name, size), ResourceExhausted (disk full), Unavailable (the engine
  // is away), or the offset once the backend acknowledged it (docs/engines.md: what that
  // promises on each).
  virtual void Publish(const std::string& topic, Outgoing message, store::Done<Published> done) = 0;

  struct TopicInfo {
    std::string name;
    uint64_t first_offset = 0;  // the oldest retained
    uint64_t next_offset = 0;
    uint64_t messages = 0;
    uint64_t bytes = 0;
  };
  // The topics as last known here (exact on the embedded broker; on JetStream as of its last
  // look, at most a second old, and of every publish through this agent).
  virtual std::vector<TopicInfo> Topics() const = 0;
  virtual uint64_t NextOffset(const std::string& topic) const = 0;   // 0 for an unknown topic
  virtual uint64_t FirstOffset(const std::string& topic) const = 0;  // the oldest retained
  // Up to `limit` retained messages from offset `from` on; NotFound for an unknown topic.
  virtual void Read(const std::string& topic, uint64_t from, size_t limit,
                    store::Done<std::vector<Message>> done) = 0;

  // The consumer group `group` of `topic`. `store`: where the embedded broker keeps the
  // group's committed offset (JetStream keeps it in a durable consumer).
  virtual std::unique_ptr<Consumer> Consume(const std::string& topic, const std::string& group,
                                            store::Store& store) = 0;

  // 1 to 200 of [A-Za-z0-9._-].
  static absl::Status CheckTopicName(std::string_view name);
  // What every backend checks before a publish: the topic's name, the payload's size.
  static absl::Status CheckPublish(std::string_view topic, const Outgoing& message,
                                   size_t max_message_bytes);

  // Adds a hook called (on the loop) after messages of `topic` were published through this
  // broker and became readable.
  void OnPublished(std::function<void(const std::string& topic)> hook) {
    on_published_.push_back(std::move(hook));
  }

 protected:
  void NotifyPublished(const std::string& topic) {
    for (const auto& hook : on_published_) hook(topic);
  }

 private:
  std::vector<std::function<void(const std::string& topic)>> on_published_;
};

}  // namespace gantry::broker
