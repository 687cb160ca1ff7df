// Internal to the JetStream backend (jetstream_broker.cc, jetstream_consumer.cc): the
// connection, the loop it answers on, and the blocking helpers the worker threads call.
#pragma once

#include <nats/nats.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include "absl/status/status.h"
#include "broker/jetstream/jetstream_broker.h"
#include "broker/jetstream/nats_names.h"

namespace gantry::broker {

// A libnats failure as a Status: NotFound for "no such message/stream/consumer", Unavailable
// for the rest (no server, a timeout, JetStream away), with libnats' own words.
absl::Status NatsError(const std::string& what, natsStatus status, jsErrCode code = jsErrCode(0));

// A JetStream message (from a stream read or a consumer) as the broker's Message.
Message MessageFromNats(natsMsg* msg, uint64_t sequence, int64_t time_ns);

struct JetStreamBroker::Impl {
  Impl(boost::asio::io_context& io_in, JetStreamOptions options_in);
  ~Impl();

  // Runs `task` on the loop, unless the broker is gone by then. Any thread.
  void Post(std::function<void()> task) {
    boost::asio::post(io, [alive = alive, task = std::move(task)] {
      if (*alive) task();
    });
  }
  jsOptions CallOptions() const {
    jsOptions o;
    jsOptions_Init(&o);
    o.Wait = static_cast<int64_t>(options.call_timeout.count());
    return o;
  }
  // Unavailable while libnats reconnects: a call then would wait its whole timeout.
  absl::Status Connected() const;
  // Blocking (a worker thread): makes the topic's stream unless it is there.
  absl::Status EnsureStream(const std::string& topic);
  // Blocking: makes a stream of one subject with the topics' limits and replicas.
  natsStatus MakeStream(const std::string& name, const std::string& subject, jsErrCode* code);
  // Blocking: the stream's state; NotFound for an unknown topic.
  absl::StatusOr<TopicInfo> StreamInfo(const std::string& topic);

  boost::asio::io_context& io;
  JetStreamOptions options;
  jetstream::Names names;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);  // read and written on the loop
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  boost::asio::thread_pool worker{1};  // stream creation, reads, the topic list

  // The loop's view.
  std::map<std::string, TopicInfo> topics;  // as of the last look, and of publishes since
  std::set<std::string> streams_made;       // topics whose stream is known to exist
  std::map<std::string, std::vector<std::function<void(absl::Status)>>> making;  // waiting
  std::function<void(const std::string& topic)> notify_published;

  // Publishes waiting for JetStream's answer, by message (libnats hands it back to its ack
  // handler, on its own thread). Never freed, on purpose: libnats names no point after which
  // that handler cannot run any more, so what it touches must outlive the broker; `impl` is
  // cleared (under `mu`) when the broker goes.
  struct Pending {
    std::string topic;
    std::string id;
    store::Done<Published> done;
  };
  struct PublishAcks {
    std::mutex mu;
    Impl* impl = nullptr;
    std::unordered_map<natsMsg*, Pending> pending;
    struct Answer {
      Pending pending;
      absl::StatusOr<Published> result;
      uint64_t sequence = 0;  // 0: failed
    };
    std::vector<Answer> answered;  // for the loop's next DeliverAnswers
  };
  // On the loop: the answers libnats' handler collected since the last call.
  void DeliverAnswers();
  static PublishAcks* NewPublishAcks();  // kept (reachable) until the process ends
  PublishAcks* acks = NewPublishAcks();
  uint64_t made_up_ids = 0;
  std::string id_prefix;  // per broker: made-up ids of two agents differ
};

}  // namespace gantry::broker
