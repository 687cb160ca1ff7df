// A consumer group on JetStream: a durable pull consumer named after the group, on the topic's
// stream. At start it is made again from its acknowledgement floor (what was fetched and not
// acknowledged before comes again at once, as on the embedded broker), so the floor is the
// committed offset. Its own thread makes it, then fetches whenever the loop asks (at once what
// is there; otherwise it waits for the next message in 200 ms turns, so that it can stop);
// acknowledgements go from the loop. Messages are not redelivered by JetStream while gantry
// runs (AckWait: an hour): gantry's delivery retries, dead-letters and acknowledges.
// Deliveries can be lost on the way (a server of the cluster killed while it forwards a batch):
// JetStream counts them delivered and would wait that hour. The consumer's delivery sequence
// tells: a jump in it while fetching, or, when idle, a count on the server above what came two
// looks running, makes the consumer again from its floor. What comes again and is already
// with the loop (or acknowledged) is not handed out twice.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "broker/broker.h"
#include "broker/jetstream/jetstream_broker.h"
#include "broker/offset_tracker.h"

struct __natsMsg;
struct __natsSubscription;

namespace gantry::broker {

class JetStreamConsumer final : public Consumer {
 public:
  JetStreamConsumer(std::shared_ptr<JetStreamBroker::Impl> broker, std::string topic,
                    std::string group);
  ~JetStreamConsumer() override;

  void Fetch(size_t max, store::Done<std::vector<Message>> done) override;
  void Ack(const Message& message) override;
  uint64_t committed() const override { return acked_.committed(); }

 private:
  void Run();  // the consumer's thread
  struct Batch;
  struct Counts {
    uint64_t ack_floor;  // the stream sequence everything up to is acknowledged
    uint64_t delivered;  // deliveries made, by the consumer's count
  };
  // Blocking: the durable consumer's counts; NotFound when JetStream has no such consumer.
  absl::StatusOr<Counts> ReadCounts();
  // Acknowledges (not waiting for the answer) and lets go of a message.
  void Settle(__natsMsg* msg);
  // Blocking: makes the durable consumer again from its floor; the floor, or why not.
  bool Setup(uint64_t* floor);
  // Setup until it works; false when stopped first.
  bool SetUpUntilStopped(uint64_t* floor);
  std::vector<__natsMsg*> FetchSome(size_t max);
  // The messages of one fetch, with the retention gaps among them; `lost` when the delivery
  // sequence jumped.
  Batch Sort(std::vector<__natsMsg*> raw);
  // Idle: has JetStream delivered what never came, or lost the consumer? A look every 2 s.
  bool DeliveriesLost();
  void TakeOnLoop(Batch batch);

  std::shared_ptr<JetStreamBroker::Impl> broker_;
  std::string topic_, group_;
  std::string stream_, durable_;                                // their NATS names
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // on the loop

  // The loop's.
  OffsetTracker acked_;
  std::map<uint64_t, __natsMsg*> unacked_;  // by offset: acknowledged through the message
  store::Done<std::vector<Message>> done_;
  size_t asked_ = 0;  // by the fetch waiting in done_

  // Shared with the thread, under mu_.
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  size_t wanted_ = 0;  // a fetch the loop asked for
  __natsSubscription* sub_ = nullptr;

  std::atomic<uint64_t> committed_{0};  // acked_'s, for the thread

  // The thread's, for the consumer as last made.
  bool made_ = false;
  uint64_t delivered_ = 0;       // the last delivery sequence that came
  uint64_t expected_ = 0;        // the offset the next new message has, unless retention took it
  uint64_t counted_before_ = 0;  // deliveries the server counted at the look before
  std::chrono::steady_clock::time_point next_look_{};
  std::thread thread_;
};

}  // namespace gantry::broker
