// A consumer group on JetStream: a durable pull consumer named after the group, on the topic's
// stream. At start it is made again from its acknowledgement floor (what was fetched and not
// acknowledged before comes again at once, as on the embedded broker), so the floor is the
// committed offset. Its own thread makes it, then fetches whenever the loop asks (at once what
// is there; otherwise it waits for the next message in 200 ms turns, so that it can stop);
// acknowledgements go from the loop. Messages are not redelivered by JetStream while gantry
// runs (AckWait: an hour): gantry's delivery retries, dead-letters and acknowledges.
#pragma once

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
  // Blocking: makes the durable consumer again from its floor; the floor, or why not.
  bool Setup(uint64_t* floor);
  std::vector<__natsMsg*> FetchSome(size_t max);

  std::shared_ptr<JetStreamBroker::Impl> broker_;
  std::string topic_, group_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // on the loop

  // The loop's.
  OffsetTracker acked_;
  std::map<uint64_t, __natsMsg*> unacked_;  // by offset: acknowledged through the message
  store::Done<std::vector<Message>> done_;

  // Shared with the thread, under mu_.
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  size_t wanted_ = 0;  // a fetch the loop asked for
  __natsSubscription* sub_ = nullptr;
  std::thread thread_;
};

}  // namespace gantry::broker
