#include "broker/jetstream/jetstream_consumer.h"

#include <fmt/format.h>

#include "broker/jetstream/jetstream_impl.h"
#include "core/log.h"
#include "core/status.h"

namespace gantry::broker {

namespace {
constexpr int64_t kWaitTurnNs = 200'000'000;  // a fetch waits this long before looking at stop
constexpr auto kSetupRetry = std::chrono::seconds(1);
constexpr auto kLookEvery = std::chrono::seconds(2);  // idle, for lost deliveries
constexpr int64_t kAckWaitNs = int64_t{3600} * 1'000'000'000;
constexpr int64_t kMaxAckPending = 10'000;  // gantry's delivery window is what bounds it
}  // namespace

JetStreamConsumer::JetStreamConsumer(std::shared_ptr<JetStreamBroker::Impl> broker,
                                     std::string topic, std::string group)
    : broker_(std::move(broker)),
      topic_(std::move(topic)),
      group_(std::move(group)),
      stream_(broker_->names.Stream(topic_)),
      durable_(jetstream::Escape(group_)) {
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
  asked_ = max;
  {
    std::lock_guard lock(mu_);
    wanted_ = max;
  }
  wake_.notify_all();
}

void JetStreamConsumer::Ack(const Message& message) {
  if (auto it = unacked_.find(message.offset); it != unacked_.end()) {
    Settle(it->second);
    unacked_.erase(it);
  }
  acked_.Ack(message.offset);
  committed_ = acked_.committed();
}

void JetStreamConsumer::Settle(natsMsg* msg) {
  jsOptions call = broker_->CallOptions();
  // Not waited for: one lost (NATS away) means the message comes again at the next start.
  natsMsg_Ack(msg, &call);
  natsMsg_Destroy(msg);
}

absl::StatusOr<JetStreamConsumer::Counts> JetStreamConsumer::ReadCounts() {
  jsOptions call = broker_->CallOptions();
  jsErrCode code = jsErrCode(0);
  jsConsumerInfo* info = nullptr;
  natsStatus s =
      js_GetConsumerInfo(&info, broker_->js, stream_.c_str(), durable_.c_str(), &call, &code);
  if (s != NATS_OK) return NatsError("cannot read the consumer " + durable_, s, code);
  Counts counts{info->AckFloor.Stream, info->Delivered.Consumer};
  jsConsumerInfo_Destroy(info);
  return counts;
}

bool JetStreamConsumer::Setup(uint64_t* floor) {
  JetStreamBroker::Impl& broker = *broker_;
  std::string subject = broker.names.Subject(topic_);
  auto failed = [&](const absl::Status& status) {
    GANTRY_LOG(kWarn, "delivery: {} for {}: {}; trying again", topic_, group_,
               StatusMessage(status));
    return false;
  };
  if (absl::Status made = broker.EnsureStream(topic_); !made.ok()) return failed(made);
  jsOptions call = broker.CallOptions();
  jsErrCode code = jsErrCode(0);
  auto counts = ReadCounts();
  if (counts.ok()) {
    *floor = counts->ack_floor;
    natsStatus s = js_DeleteConsumer(broker.js, stream_.c_str(), durable_.c_str(), &call, &code);
    if (s != NATS_OK && code != JSConsumerNotFoundErr) {
      return failed(NatsError("cannot take up the consumer " + durable_ + " again", s, code));
    }
  } else if (absl::IsNotFound(counts.status())) {
    auto stream_info = broker.StreamInfo(topic_);  // a new group: from the oldest retained
    if (!stream_info.ok()) return failed(stream_info.status());
    *floor = stream_info->first_offset;
  } else {
    return failed(counts.status());
  }
  // Made again while gantry runs: from what gantry itself has not acknowledged, should the
  // server's floor be past it (a consumer's state lost with a server); what comes again that
  // was acknowledged is settled on the loop.
  if (made_) *floor = std::min(*floor, committed_.load());
  jsSubOptions options;
  jsSubOptions_Init(&options);
  options.Stream = stream_.c_str();
  options.Config.Durable = durable_.c_str();
  options.Config.AckPolicy = js_AckExplicit;
  options.Config.AckWait = kAckWaitNs;
  options.Config.MaxDeliver = -1;
  options.Config.MaxAckPending = kMaxAckPending;
  options.Config.DeliverPolicy = js_DeliverByStartSequence;
  options.Config.OptStartSeq = *floor + 1;
  natsSubscription* sub = nullptr;
  natsStatus s =
      js_PullSubscribe(&sub, broker.js, subject.c_str(), durable_.c_str(), &call, &options, &code);
  if (s != NATS_OK) return failed(NatsError("cannot make the consumer " + durable_, s, code));
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

struct JetStreamConsumer::Batch {
  std::vector<natsMsg*> raw;
  std::vector<Message> messages;                    // one per raw message
  std::vector<std::pair<uint64_t, uint64_t>> gone;  // [from, to): taken by retention
  bool lost = false;
};

bool JetStreamConsumer::SetUpUntilStopped(uint64_t* floor) {
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stop_) return false;
    }
    if (Setup(floor)) break;
    std::unique_lock lock(mu_);
    if (wake_.wait_for(lock, kSetupRetry, [this] { return stop_; })) return false;
  }
  if (!made_) committed_ = *floor;  // until the loop's acknowledgements move it
  made_ = true;
  delivered_ = 0;  // a new consumer counts its deliveries from 1
  expected_ = *floor;
  counted_before_ = 0;
  next_look_ = std::chrono::steady_clock::now() + kLookEvery;
  return true;
}

JetStreamConsumer::Batch JetStreamConsumer::Sort(std::vector<natsMsg*> raw) {
  Batch batch;
  for (natsMsg* msg : raw) {
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, msg) != NATS_OK) {
      natsMsg_Destroy(msg);  // not from a consumer: nothing to hand out or acknowledge
      continue;
    }
    Message message = MessageFromNats(msg, meta->Sequence.Stream, meta->Timestamp);
    uint64_t delivery = meta->Sequence.Consumer;
    bool first_time = meta->NumDelivered == 1;
    jsMsgMetaData_Destroy(meta);
    if (delivery > delivered_ + 1) {
      batch.lost = true;  // what came between is somewhere else, or nowhere
    } else if (first_time && message.offset > expected_) {
      // The deliveries are in a row and new messages come in stream order: what the stream no
      // longer holds.
      batch.gone.emplace_back(expected_, message.offset);
    }
    delivered_ = delivery;
    expected_ = std::max(expected_, message.offset + 1);
    batch.raw.push_back(msg);
    batch.messages.push_back(std::move(message));
  }
  return batch;
}

bool JetStreamConsumer::DeliveriesLost() {
  auto now = std::chrono::steady_clock::now();
  if (now < next_look_ || !broker_->Connected().ok()) return false;
  next_look_ = now + kLookEvery;
  auto counts = ReadCounts();
  if (!counts.ok()) {
    if (!absl::IsNotFound(counts.status())) return false;  // a look later
    GANTRY_LOG(kWarn, "delivery: the consumer of {} for {} is gone from JetStream; making it again",
               topic_, group_);
    return true;
  }
  uint64_t counted = counts->delivered;
  // A look's count had two seconds to come; one counted just now may still be on its way.
  bool lost = delivered_ < counted_before_;
  counted_before_ = counted;
  if (lost) {
    GANTRY_LOG(kWarn,
               "delivery: JetStream delivered {} messages of {} for {} that never came; making the "
               "consumer again from its floor",
               counted - delivered_, topic_, group_);
  }
  return lost;
}

void JetStreamConsumer::Run() {
  uint64_t floor = 0;
  if (!SetUpUntilStopped(&floor)) return;
  std::weak_ptr<bool> alive = alive_;
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
    bool lost = false;
    if (raw.empty()) {
      lost = DeliveriesLost();
    } else {
      Batch batch = Sort(std::move(raw));
      lost = batch.lost;
      if (batch.lost) {
        GANTRY_LOG(kWarn,
                   "delivery: deliveries of {} for {} were lost on the way; making the consumer "
                   "again from its floor",
                   topic_, group_);
      }
      if (!batch.raw.empty()) {
        {
          std::lock_guard lock(mu_);
          wanted_ = 0;
        }
        broker_->Post([this, alive, batch = std::move(batch)]() mutable {
          if (alive.expired()) {
            for (natsMsg* msg : batch.raw) natsMsg_Destroy(msg);
            return;
          }
          TakeOnLoop(std::move(batch));
        });
      }
    }
    if (lost) {
      natsSubscription_Destroy(sub_);
      sub_ = nullptr;
      if (!SetUpUntilStopped(&floor)) return;
    }
  }
}

void JetStreamConsumer::TakeOnLoop(Batch batch) {
  for (auto [from, to] : batch.gone) acked_.Skip(from, to);
  committed_ = acked_.committed();
  std::vector<Message> fresh;
  for (size_t i = 0; i < batch.raw.size(); ++i) {
    natsMsg* msg = batch.raw[i];
    uint64_t offset = batch.messages[i].offset;
    if (acked_.acknowledged(offset)) {  // again, from a consumer made again: settle it there
      Settle(msg);
    } else if (auto it = unacked_.find(offset); it != unacked_.end()) {
      natsMsg_Destroy(it->second);  // already with the delivery: the newer one acknowledges
      it->second = msg;
    } else {
      unacked_.emplace(offset, msg);
      fresh.push_back(std::move(batch.messages[i]));
    }
  }
  if (fresh.empty()) {  // all of it seen before: the fetch the loop asked for goes on
    {
      std::lock_guard lock(mu_);
      wanted_ = asked_;
    }
    wake_.notify_all();
    return;
  }
  auto done = std::move(done_);
  if (done) done(std::move(fresh));
}

}  // namespace gantry::broker
