// The embedded broker: topics made on first publish, each a durable TopicLog under
// <state dir>/broker/<topic>/. A publish is acknowledged with its offset once it is on disk:
// publishes queue on the loop and go to the sync thread in batches (group commit: whatever
// queued during one append shares the next fdatasync per topic). A message id seen again
// within the dedup window gets the first one's offset and nothing is written (an id still in
// flight makes the repeat wait for it).
// Control-plane thread only, but for the sync thread it owns.
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "broker/message.h"
#include "broker/topic_log.h"
#include "core/duration.h"
#include "store/store.h"

namespace boost::asio {
class io_context;
}

namespace gantry::broker {

struct BrokerOptions {
  RetentionOptions retention;
  Duration dedup_window = std::chrono::minutes(2);
  size_t max_message_bytes = size_t{1} << 20;
};

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

class Broker {
 public:
  static absl::StatusOr<std::unique_ptr<Broker>> Open(boost::asio::io_context& io,
                                                      const std::filesystem::path& dir,
                                                      const BrokerOptions& options = {});
  ~Broker();

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
  // InvalidArgument (topic name, size), ResourceExhausted (disk full), or the offset once
  // durable.
  void Publish(const std::string& topic, Outgoing message, store::Done<Published> done);

  struct TopicInfo {
    std::string name;
    uint64_t first_offset = 0;  // the oldest retained
    uint64_t next_offset = 0;
    uint64_t messages = 0;
    uint64_t bytes = 0;  // of its segment files
  };
  std::vector<TopicInfo> Topics() const;
  // Up to `limit` retained messages from offset `from` on; NotFound for an unknown topic.
  absl::StatusOr<std::vector<Message>> Read(const std::string& topic, uint64_t from,
                                            size_t limit) const;

  // 1 to 200 of [A-Za-z0-9._-].
  static absl::Status CheckTopicName(std::string_view name);

  // Adds a hook called (on the loop) after messages of `topic` became durable and readable.
  void OnPublished(std::function<void(const std::string& topic)> hook) {
    on_published_.push_back(std::move(hook));
  }
  uint64_t NextOffset(const std::string& topic) const;   // 0 for an unknown topic
  uint64_t FirstOffset(const std::string& topic) const;  // the oldest retained

 private:
  struct Topic;
  struct Runtime;
  Broker(boost::asio::io_context& io, std::filesystem::path dir, BrokerOptions options);
  absl::StatusOr<Topic*> GetOrCreate(const std::string& name);
  void StartAppend();
  void ForgetOldIds(Topic& topic, int64_t now_ms);

  boost::asio::io_context& io_;
  std::filesystem::path dir_;
  BrokerOptions options_;
  std::unique_ptr<Runtime> runtime_;
  std::shared_ptr<bool> alive_;
  std::map<std::string, std::unique_ptr<Topic>> topics_;
  bool appending_ = false;
  uint64_t made_up_ids_ = 0;
  std::vector<std::function<void(const std::string& topic)>> on_published_;
};

}  // namespace gantry::broker
