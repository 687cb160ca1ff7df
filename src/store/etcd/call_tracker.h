// The bridge between gRPC's threads and the store's loop. Every call and stream registers its
// ClientContext here while gRPC holds it; results reach the loop only through Post, and only
// while the store lives. Shutdown cancels everything registered and waits until gRPC has
// finished with it, so no gRPC thread posts to a loop after its store is gone.
// Thread-safe; Post's tasks run on the loop.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include <grpcpp/client_context.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace gantry::store::etcd {

class CallTracker {
 public:
  explicit CallTracker(boost::asio::io_context& io) : io_(io) {}

  // Registers a call's context and what owns it (kept alive while registered, so Shutdown can
  // cancel it safely). False once shutting down: the caller fails the call at once instead.
  bool Begin(::grpc::ClientContext* context, std::shared_ptr<void> owner) {
    std::lock_guard lock(mu_);
    if (shutting_down_) return false;
    calls_.emplace(context, std::move(owner));
    return true;
  }
  // gRPC is done with `context` (called from its callback, after the last Post). The owner is
  // let go before Shutdown may return: its ClientContext holds a reference to the channel, and
  // the last one must not go on a gRPC thread (gRPC 1.51's callback threads would be joined by
  // one of themselves, and the completion queue freed twice).
  void End(::grpc::ClientContext* context) {
    std::shared_ptr<void> owner;
    {
      std::lock_guard lock(mu_);
      auto it = calls_.find(context);
      if (it == calls_.end()) return;
      owner = std::move(it->second);
      calls_.erase(it);
      ++releasing_;
    }
    owner.reset();  // outside the lock: it may be the last hold of a stream
    std::lock_guard lock(mu_);
    if (--releasing_ == 0 && calls_.empty()) idle_.notify_all();
  }

  // Runs `task` on the loop, unless the store is gone by then.
  void Post(std::function<void()> task) {
    boost::asio::post(io_, [alive = alive_, task = std::move(task)] {
      if (*alive) task();
    });
  }

  // On the loop, from the store's destructor. Cancels outside the lock: gRPC may run a
  // cancelled call's callback (and so End) on this very thread.
  void Shutdown() {
    *alive_ = false;
    std::map<::grpc::ClientContext*, std::shared_ptr<void>> calls;
    {
      std::lock_guard lock(mu_);
      shutting_down_ = true;
      calls = calls_;
    }
    for (auto& [context, owner] : calls) context->TryCancel();
    calls.clear();
    std::unique_lock lock(mu_);
    idle_.wait(lock, [this] { return calls_.empty() && releasing_ == 0; });
  }

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // read and written on the loop
  std::mutex mu_;
  std::condition_variable idle_;
  std::map<::grpc::ClientContext*, std::shared_ptr<void>> calls_;
  int releasing_ = 0;  // owners taken out of calls_, not let go yet
  bool shutting_down_ = false;
};

}  // namespace gantry::store::etcd
