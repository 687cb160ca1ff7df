#include "broker/jetstream/jetstream_consumer.h"

#include <fmt/format.h>

#include "broker/jetstream/jetstream_impl.h"
#include "core/log.h"
#include "core/status.h"

namespace gantry::broker {

namespace {
constexpr int64_t kWaitTurnNs = 200'000'000;  // a fetch waits this long before looking at stop
constexpr auto kSetupRetry = std::chrono::seconds(1);
constexpr int64_t kAckWaitNs = int64_t{3600} * 1'000'000'000;
constexpr int64_t kMaxAckPending = 10'000;  // gantry's delivery window is what bounds it
}  // namespace

JetStreamConsumer::JetStreamConsumer(std::shared_ptr<JetStreamBroker::Impl> broker,
                                     std::string topic, std::string group)
    : broker_(std::move(broker)), topic_(std::move(topic)), group_(std::move(group)) {
  thread_ = std::thread([this] { Run(); });
}

JetStreamConsumer::~JetStreamConsumer() {
  *alive_ = false;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
  // Not unsubscribed: that would take the durable consumer away with its floor.
  if (sub_) natsSubscription_Destroy(sub_);
  for (auto& [offset, msg] : unacked_) natsMsg_Destroy(msg);
}

void JetStreamConsumer::Fetch(size_t max, store::Done<std::vector<Message>> done) {
  done_ = std::move(done);
  {
    std::lock_guard lock(mu_);
    wanted_ = max;
  }
  wake_.notify_all();
}

void JetStreamConsumer::Ack(const Message& message) {
  if (auto it = unacked_.find(message.offset); it != unacked_.end()) {
    jsOptions call = broker_->CallOptions();
    // Not waited for: one lost (NATS away) means the message comes again at the next start.
    natsMsg_Ack(it->second, &call);
    natsMsg_Destroy(it->second);
    unacked_.erase(it);
  }
  acked_.Ack(message.offset);
}

bool JetStreamConsumer::Setup(uint64_t* floor) {
  JetStreamBroker::Impl& broker = *broker_;
  std::string stream = broker.names.Stream(topic_);
  std::string subject = broker.names.Subject(topic_);
  std::string durable = jetstream::Escape(group_);
  auto failed = [&](const absl::Status& status) {
    GANTRY_LOG(kWarn, "delivery: {} for {}: {}; trying again", topic_, group_,
               StatusMessage(status));
    return false;
  };
  if (absl::Status made = broker.EnsureStream(topic_); !made.ok()) return failed(made);
  jsOptions call = broker.CallOptions();
  jsErrCode code = jsErrCode(0);
  jsConsumerInfo* info = nullptr;
  natsStatus s =
      js_GetConsumerInfo(&info, broker.js, stream.c_str(), durable.c_str(), &call, &code);
  if (s == NATS_OK) {
    *floor = info->AckFloor.Stream;
    jsConsumerInfo_Destroy(info);
    s = js_DeleteConsumer(broker.js, stream.c_str(), durable.c_str(), &call, &code);
    if (s != NATS_OK && code != JSConsumerNotFoundErr) {
      return failed(NatsError("cannot take up the consumer " + durable + " again", s, code));
    }
  } else if (code == JSConsumerNotFoundErr || s == NATS_NOT_FOUND) {
    auto stream_info = broker.StreamInfo(topic_);  // a new group: from the oldest retained
    if (!stream_info.ok()) return failed(stream_info.status());
    *floor = stream_info->first_offset;
  } else {
    return failed(NatsError("cannot read the consumer " + durable, s, code));
  }
  jsSubOptions options;
  jsSubOptions_Init(&options);
  options.Stream = stream.c_str();
  options.Config.Durable = durable.c_str();
  options.Config.AckPolicy = js_AckExplicit;
  options.Config.AckWait = kAckWaitNs;
  options.Config.MaxDeliver = -1;
  options.Config.MaxAckPending = kMaxAckPending;
  options.Config.DeliverPolicy = js_DeliverByStartSequence;
  options.Config.OptStartSeq = *floor + 1;
  natsSubscription* sub = nullptr;
  s = js_PullSubscribe(&sub, broker.js, subject.c_str(), durable.c_str(), &call, &options, &code);
  if (s != NATS_OK) return failed(NatsError("cannot make the consumer " + durable, s, code));
  sub_ = sub;
  return true;
}

std::vector<natsMsg*> JetStreamConsumer::FetchSome(size_t max) {
  std::vector<natsMsg*> out;
  auto take = [&out](natsMsgList& list) {
    for (int i = 0; i < list.Count; ++i) {
      out.push_back(list.Msgs[i]);
      list.Msgs[i] = nullptr;  // ours now
    }
    natsMsgList_Destroy(&list);
  };
  jsFetchRequest request;
  jsFetchRequest_Init(&request);
  request.Batch = static_cast<int>(max);
  request.NoWait = true;  // what is there now
  natsMsgList list{};
  if (natsSubscription_FetchRequest(&list, sub_, &request) == NATS_OK) take(list);
  if (!out.empty()) return out;
  // Nothing yet: one message, as soon as it comes (a larger batch would wait to fill).
  jsFetchRequest_Init(&request);
  request.Batch = 1;
  request.Expires = kWaitTurnNs;
  list = {};
  natsStatus s = natsSubscription_FetchRequest(&list, sub_, &request);
  if (s == NATS_OK) {
    take(list);
  } else if (s != NATS_TIMEOUT && s != NATS_NOT_FOUND) {
    // NATS away: a pause before the next try, not a spin.
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, std::chrono::nanoseconds(kWaitTurnNs), [this] { return stop_; });
  }
  return out;
}

void JetStreamConsumer::Run() {
  std::weak_ptr<bool> alive = alive_;
  uint64_t floor = 0;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
    }
    if (Setup(&floor)) break;
    std::unique_lock lock(mu_);
    if (wake_.wait_for(lock, kSetupRetry, [this] { return stop_; })) return;
  }
  broker_->Post([this, alive, floor] {
    if (alive.expired()) return;
    acked_ = OffsetTracker(floor);
  });
  for (;;) {
    size_t max = 0;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stop_ || wanted_ > 0; });
      if (stop_) return;
      max = wanted_;
    }
    std::vector<natsMsg*> raw = FetchSome(max);
    if (raw.empty()) continue;
    {
      std::lock_guard lock(mu_);
      wanted_ = 0;
    }
    std::vector<Message> messages;
    for (natsMsg* msg : raw) {
      jsMsgMetaData* meta = nullptr;
      uint64_t sequence = 0;
      int64_t time_ns = 0;
      if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
        sequence = meta->Sequence.Stream;
        time_ns = meta->Timestamp;
        jsMsgMetaData_Destroy(meta);
      }
      messages.push_back(MessageFromNats(msg, sequence, time_ns));
    }
    broker_->Post([this, alive, raw = std::move(raw), messages = std::move(messages)]() mutable {
      if (alive.expired()) {
        for (natsMsg* msg : raw) natsMsg_Destroy(msg);
        return;
      }
      for (size_t i = 0; i < raw.size(); ++i) {
        uint64_t offset = messages[i].offset;
        acked_.Fetched(offset);
        if (auto [it, fresh] = unacked_.emplace(offset, raw[i]); !fresh) {
          natsMsg_Destroy(it->second);  // a redelivery: the newer one acknowledges
          it->second = raw[i];
        }
      }
      auto done = std::move(done_);
      if (done) done(std::move(messages));
    });
  }
}

}  // namespace gantry::broker
