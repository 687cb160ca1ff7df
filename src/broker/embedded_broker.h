// The embedded Broker: topics made on first publish, each a durable TopicLog under
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
#include "broker/broker.h"
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

class EmbeddedBroker final : public Broker {
 public:
  static absl::StatusOr<std::unique_ptr<EmbeddedBroker>> Open(boost::asio::io_context& io,
                                                              const std::filesystem::path& dir,
                                                              const BrokerOptions& options = {});
  ~EmbeddedBroker() override;

  // The offset once durable (fdatasync).
  void Publish(const std::string& topic, Outgoing message, store::Done<Published> done) override;
  std::vector<TopicInfo> Topics() const override;
  uint64_t NextOffset(const std::string& topic) const override;
  uint64_t FirstOffset(const std::string& topic) const override;
  void Read(const std::string& topic, uint64_t from, size_t limit,
            store::Done<std::vector<Message>> done) override;
  // An OffsetConsumer: the committed offset in the store.
  std::unique_ptr<Consumer> Consume(const std::string& topic, const std::string& group,
                                    store::Store& store) override;

 private:
  struct Topic;
  struct Runtime;
  EmbeddedBroker(boost::asio::io_context& io, std::filesystem::path dir, BrokerOptions options);
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
};

}  // namespace gantry::broker
