// The Broker on NATS JetStream (nats-server 2.9, libnats 3.4): a stream per topic (file
// storage, limits retention as the embedded broker's: 256 MiB and 7 days per topic; a 2 minute
// dedup window on Nats-Msg-Id), offsets are stream sequences minus one. A publish is
// acknowledged once JetStream acknowledges it: stored by the stream's replicas, but 2.9 syncs
// its files to disk only every 60 s (docs/engines.md). A consumer group is a durable pull
// consumer, taken up again at start from its acknowledgement floor (so what was in flight is
// delivered again at once: at least once, as on the embedded broker).
//
// Blocking libnats calls run on the broker's worker thread (and each consumer's own), never
// on the loop; every answer is posted to the loop. Losing NATS degrades: publishes and reads
// answer Unavailable, delivery pauses, and all resumes when a server is back (libnats
// reconnects forever).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "broker/broker.h"
#include "core/duration.h"

namespace boost::asio {
class io_context;
}

namespace gantry::broker {

struct JetStreamOptions {
  std::vector<std::string> servers;  // "host:port", at least one
  std::string app;                   // names the streams: one app's topics apart from another's
  int replicas = 1;                  // of each stream (3 on a three-server cluster)
  Duration call_timeout = std::chrono::seconds(5);
  uint64_t max_bytes = uint64_t{256} << 20;  // per topic
  Duration max_age = std::chrono::hours(24 * 7);
  size_t max_message_bytes = size_t{1} << 20;
};

class JetStreamBroker final : public Broker {
 public:
  // Connects, and checks that JetStream answers, within `call_timeout`: Unavailable naming the
  // servers otherwise.
  static absl::StatusOr<std::unique_ptr<JetStreamBroker>> Open(boost::asio::io_context& io,
                                                               JetStreamOptions options);
  ~JetStreamBroker() override;

  void Publish(const std::string& topic, Outgoing message, store::Done<Published> done) override;
  std::vector<TopicInfo> Topics() const override;
  uint64_t NextOffset(const std::string& topic) const override;
  uint64_t FirstOffset(const std::string& topic) const override;
  void Read(const std::string& topic, uint64_t from, size_t limit,
            store::Done<std::vector<Message>> done) override;
  std::unique_ptr<Consumer> Consume(const std::string& topic, const std::string& group,
                                    store::Store& store) override;

  struct Impl;  // libnats types stay in the .cc files

 private:
  explicit JetStreamBroker(std::shared_ptr<Impl> impl);
  // Publishes once the topic's stream is known to exist.
  void Send(const std::string& topic, Outgoing message, store::Done<Published> done);

  std::shared_ptr<Impl> impl_;
  std::shared_ptr<std::function<void()>> refresh_;  // the topic list's look, every second
};

}  // namespace gantry::broker
