// One client-side bidirectional gRPC stream (etcd's Watch and LeaseKeepAlive) whose messages
// and end reach the store's loop. Send may be called from the loop at any time: messages are
// written one at a time in order, and dropped once the stream is ending. The stream lives as
// long as the loop holds it or gRPC still works on it.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/client_callback.h>

#include "store/etcd/call_tracker.h"

namespace gantry::store::etcd {

template <typename Request, typename Response>
class BidiStream final : public ::grpc::ClientBidiReactor<Request, Response>,
                         public std::enable_shared_from_this<BidiStream<Request, Response>> {
 public:
  struct Handlers {
    std::function<void(Response)> on_message;    // on the loop
    std::function<void(::grpc::Status)> on_end;  // on the loop, once, after the last message
  };
  // Starts the stream: `start` hands the context and the reactor to the stub's async() method.
  using Starter =
      std::function<void(::grpc::ClientContext*, ::grpc::ClientBidiReactor<Request, Response>*)>;

  static std::shared_ptr<BidiStream> Start(CallTracker& tracker, const Starter& start,
                                           Handlers handlers) {
    auto stream = std::shared_ptr<BidiStream>(new BidiStream(tracker, std::move(handlers)));
    if (!tracker.Begin(&stream->context_, stream)) return nullptr;
    stream->self_ = stream;  // gRPC's hold, let go in OnDone
    start(&stream->context_, stream.get());
    stream->StartRead(&stream->incoming_);
    stream->StartCall();
    return stream;
  }

  void Send(Request request) {
    std::lock_guard lock(mu_);
    if (done_) return;
    outgoing_.push_back(std::move(request));
    if (writing_) return;
    writing_ = true;
    this->StartWrite(&outgoing_.front());  // deque: pushing more keeps it in place
  }

  // Ends the stream from the loop; on_end follows.
  void Cancel() { context_.TryCancel(); }

 private:
  BidiStream(CallTracker& tracker, Handlers handlers)
      : tracker_(tracker), handlers_(std::move(handlers)) {}

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The stream is ending. gRPC calls OnDone once no operation is outstanding, so from here
      // on none may start: a write started after OnDone would touch a freed call.
      std::lock_guard lock(mu_);
      done_ = true;
      return;
    }
    tracker_.Post([self = this->shared_from_this(), message = std::move(incoming_)]() mutable {
      self->handlers_.on_message(std::move(message));
    });
    incoming_ = Response();
    this->StartRead(&incoming_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    outgoing_.pop_front();
    if (!ok || done_ || outgoing_.empty()) {
      writing_ = false;
      return;
    }
    this->StartWrite(&outgoing_.front());
  }

  void OnDone(const ::grpc::Status& status) override {
    // gRPC's hold goes on to the loop, so the stream (and its context, which holds the channel)
    // is let go there or in End, never after it on this thread (see CallTracker::End).
    CallTracker& tracker = tracker_;
    ::grpc::ClientContext* context = &context_;
    tracker.Post([self = std::move(self_), status] { self->handlers_.on_end(status); });
    tracker.End(context);  // may destroy this: nothing after
  }

  CallTracker& tracker_;
  Handlers handlers_;
  ::grpc::ClientContext context_;
  Response incoming_;
  // Writes start under it, so none starts once done_ is set. Recursive: gRPC may run a
  // reaction (OnWriteDone) on the thread that started the operation, before it returns.
  std::recursive_mutex mu_;
  std::deque<Request> outgoing_;
  bool writing_ = false;
  bool done_ = false;
  std::shared_ptr<BidiStream> self_;
};

}  // namespace gantry::store::etcd
