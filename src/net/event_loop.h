// One data-plane thread's event loop: edge-triggered epoll, a timer wheel and a queue of tasks
// posted from other threads (woken through an eventfd). Deliberately small: no handler
// allocation per operation, no locks on the I/O path; handlers read and write their
// descriptors themselves and are told only about readiness.
// Thread affinity: everything runs on the thread that calls Run(), except Post() and Stop(),
// which any thread may call.
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/statusor.h"
#include "net/timer_wheel.h"

namespace gantry::net {

// Something the loop may delete at the end of the current batch of events (DeleteLater), when
// no readiness already collected for it can still reach it.
class LoopOwned {
 public:
  virtual ~LoopOwned() = default;
};

// Owns a descriptor registered with a loop, and is destroyed through it (DeleteLater).
class IoHandler : public LoopOwned {
 public:
  // `events`: EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLHUP, EPOLLERR bits.
  virtual void OnIo(uint32_t events) = 0;
};

// Work that runs once after the current batch of events, however often it was asked for in
// the batch: how a connection coalesces many small writes into one system call.
class Deferred {
 public:
  virtual ~Deferred() = default;
  virtual void RunDeferred() = 0;

 private:
  friend class EventLoop;
  bool deferred_queued_ = false;
};

class EventLoop {
 public:
  static absl::StatusOr<std::unique_ptr<EventLoop>> Create();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Loop thread. Registers `fd` once, edge-triggered for input, output and peer shutdown.
  absl::Status Add(int fd, IoHandler* handler);
  // Loop thread. Like Add, for a listening socket (level-triggered input only).
  absl::Status AddListener(int fd, IoHandler* handler);
  // Loop thread. Stops watching `fd` (a paused listener) without closing it.
  void Remove(int fd);
  // Loop thread. Unregisters and closes `fd`: no event for it reaches its handler afterwards,
  // even while another process (a forked child before exec) holds a copy of the descriptor.
  // Every descriptor given to Add or AddListener is closed through here.
  void Close(int fd);
  // Loop thread. Deletes `object` once the current batch of events has been handled.
  void DeleteLater(std::unique_ptr<LoopOwned> object);
  // Loop thread. Runs `work` after the current batch of events (and timers), once. It must
  // stay alive until then: objects deleted through DeleteLater do.
  void Defer(Deferred* work) {
    if (work->deferred_queued_) return;
    work->deferred_queued_ = true;
    deferred_.push_back(work);
  }

  TimerWheel& timers() { return timers_; }
  int64_t now_ms() const { return now_us_ / 1000; }  // monotonic, read once per wake-up
  int64_t now_us() const { return now_us_; }

  // Runs until Stop(). Loop thread.
  void Run();
  // Any thread: runs `task` on the loop thread soon.
  void Post(std::function<void()> task);
  // Any thread: Run() returns after the current batch.
  void Stop();

 private:
  EventLoop(int epoll_fd, int wake_fd);
  void RunPosted();
  void RunDeferred();
  void DeletePending();

  int epoll_fd_;
  int wake_fd_;
  int64_t now_us_;
  TimerWheel timers_;
  std::vector<Deferred*> deferred_;
  std::vector<Deferred*> running_deferred_;
  std::vector<std::unique_ptr<LoopOwned>> graveyard_;
  std::vector<std::unique_ptr<LoopOwned>> dying_;
  std::atomic<bool> stop_{false};
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
};

// CLOCK_MONOTONIC in microseconds.
int64_t MonotonicMicros();

}  // namespace gantry::net
