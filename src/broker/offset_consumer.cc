#include "broker/offset_consumer.h"

#include <fmt/format.h>

#include "core/log.h"
#include "core/status.h"
#include "net/asio.h"

namespace gantry::broker {

namespace {
constexpr Duration kRetryPause = std::chrono::seconds(1);
}

OffsetConsumer::OffsetConsumer(net::asio::io_context& io, Broker& broker, store::Store& store,
                               std::string topic, std::string group)
    : io_(io), broker_(broker), store_(store), topic_(std::move(topic)), group_(std::move(group)) {
  std::weak_ptr<bool> alive = alive_;
  broker_.OnPublished([this, alive](const std::string& topic) {
    if (!alive.expired() && topic == topic_) TryRead();
  });
  Load();
}

OffsetConsumer::~OffsetConsumer() { *alive_ = false; }

std::string OffsetConsumer::OffsetKey(const std::string& topic, const std::string& group) {
  return fmt::format("gantry/broker/offsets/{}/{}", topic, group);
}

void OffsetConsumer::Load() {
  std::weak_ptr<bool> alive = alive_;
  store_.Range({OffsetKey(topic_, group_), false},
               [this, alive](absl::StatusOr<store::RangeResult> result) {
                 if (alive.expired()) return;
                 if (!result.ok()) {
                   GANTRY_LOG(kError, "delivery: cannot read the offset of {} for {}: {}", topic_,
                              group_, StatusMessage(result.status()));
                   auto timer = std::make_shared<net::asio::steady_timer>(io_, kRetryPause);
                   timer->async_wait([this, alive, timer](boost::system::error_code error) {
                     if (!error && !alive.expired()) Load();
                   });
                   return;
                 }
                 uint64_t offset = broker_.FirstOffset(topic_);
                 if (!result->kvs.empty()) offset = std::stoull(result->kvs[0].value);
                 acked_ = OffsetTracker(offset);
                 saved_ = offset;
                 loaded_ = true;
                 TryRead();
               });
}

void OffsetConsumer::Fetch(size_t max, store::Done<std::vector<Message>> done) {
  waiting_ = Waiting{max, std::move(done)};
  TryRead();
}

void OffsetConsumer::TryRead() {
  if (!loaded_ || !waiting_ || reading_ || acked_.next() >= broker_.NextOffset(topic_)) return;
  reading_ = true;
  std::weak_ptr<bool> alive = alive_;
  broker_.Read(topic_, acked_.next(), waiting_->max,
               [this, alive](absl::StatusOr<std::vector<Message>> messages) {
                 if (alive.expired()) return;
                 reading_ = false;
                 if (!messages.ok()) {
                   GANTRY_LOG(kError, "delivery: cannot read {} at offset {}: {}", topic_,
                              acked_.next(), StatusMessage(messages.status()));
                   auto timer = std::make_shared<net::asio::steady_timer>(io_, kRetryPause);
                   timer->async_wait([this, alive, timer](boost::system::error_code error) {
                     if (!error && !alive.expired()) TryRead();
                   });
                   return;
                 }
                 if (messages->empty()) return;  // the next publish tries again
                 for (const Message& message : *messages) {
                   uint64_t from = acked_.next();
                   if (acked_.Fetched(message.offset) > 0) {
                     GANTRY_LOG(kWarn,
                                "delivery: {} for {}: offsets {} to {} were dropped by "
                                "retention",
                                topic_, group_, from, message.offset - 1);
                   }
                 }
                 auto done = std::move(waiting_->done);
                 waiting_.reset();
                 done(std::move(*messages));
               });
}

void OffsetConsumer::Ack(const Message& message) {
  acked_.Ack(message.offset);
  Save();
}

// One write of the committed offset at a time; the newest one follows when it is done.
void OffsetConsumer::Save() {
  if (saving_ || saved_ == acked_.committed()) return;
  saving_ = true;
  uint64_t committed = acked_.committed();
  std::weak_ptr<bool> alive = alive_;
  store_.Put(OffsetKey(topic_, group_), std::to_string(committed), {},
             [this, alive, committed](absl::StatusOr<store::Revision> done) {
               if (alive.expired()) return;
               saving_ = false;
               if (!done.ok()) return;  // the next acknowledgement tries again
               saved_ = committed;
               Save();
             });
}

}  // namespace gantry::broker
