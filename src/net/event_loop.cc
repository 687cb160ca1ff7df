#include "net/event_loop.h"

#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

namespace gantry::net {
namespace {
// The eventfd's epoll data: a pointer no handler can have.
char kWakeTag;
}  // namespace

int64_t MonotonicMicros() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create() {
  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return absl::InternalError(fmt::format("epoll_create1: {}", strerror(errno)));
  int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    ::close(epoll_fd);
    return absl::InternalError(fmt::format("eventfd: {}", strerror(errno)));
  }
  std::unique_ptr<EventLoop> loop(new EventLoop(epoll_fd, wake_fd));
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.ptr = &kWakeTag;
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &event) != 0) {
    return absl::InternalError(fmt::format("epoll_ctl: {}", strerror(errno)));
  }
  return loop;
}

EventLoop::EventLoop(int epoll_fd, int wake_fd)
    : epoll_fd_(epoll_fd), wake_fd_(wake_fd), now_us_(MonotonicMicros()), timers_(now_us_ / 1000) {}

EventLoop::~EventLoop() {
  DeletePending();
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

absl::Status EventLoop::Add(int fd, IoHandler* handler) {
  epoll_event event{};
  event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  event.data.ptr = handler;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
    return absl::InternalError(fmt::format("epoll_ctl add: {}", strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status EventLoop::AddListener(int fd, IoHandler* handler) {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.ptr = handler;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
    return absl::InternalError(fmt::format("epoll_ctl add: {}", strerror(errno)));
  }
  return absl::OkStatus();
}

void EventLoop::Remove(int fd) { epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

void EventLoop::Close(int fd) {
  // Removed first: epoll forgets a descriptor only when the last copy of it closes, and a
  // child between fork and exec holds copies of all of them. Closing alone would leave the
  // registration (and its handler pointer) live until that child execs.
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  ::close(fd);
}

void EventLoop::DeleteLater(std::unique_ptr<LoopOwned> object) {
  graveyard_.push_back(std::move(object));
}

void EventLoop::DeletePending() {
  // Destructors may hand over more objects: swap and repeat until none are left.
  while (!graveyard_.empty()) {
    dying_.swap(graveyard_);
    dying_.clear();
  }
}

void EventLoop::Post(std::function<void()> task) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(task));
  }
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void EventLoop::Stop() {
  stop_.store(true, std::memory_order_release);
  Post([] {});
}

void EventLoop::RunPosted() {
  uint64_t count;
  [[maybe_unused]] ssize_t n = ::read(wake_fd_, &count, sizeof count);
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(posted_mutex_);
    tasks.swap(posted_);
  }
  for (auto& task : tasks) task();
}

void EventLoop::Run() {
  constexpr int kBatch = 256;
  epoll_event events[kBatch];
  while (!stop_.load(std::memory_order_acquire)) {
    int64_t wait = timers_.MsUntilNext(now_ms());
    int timeout = wait < 0 ? -1 : static_cast<int>(wait > 60000 ? 60000 : wait);
    // The bare system call: glibc's epoll_wait is a thread-cancellation point and pays for it.
    int n = static_cast<int>(::syscall(SYS_epoll_wait, epoll_fd_, events, kBatch, timeout));
    now_us_ = MonotonicMicros();
    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr == &kWakeTag) {
        RunPosted();
      } else {
        static_cast<IoHandler*>(events[i].data.ptr)->OnIo(events[i].events);
      }
    }
    timers_.Advance(now_ms());
    RunDeferred();
    DeletePending();
  }
}

void EventLoop::RunDeferred() {
  // Deferred work may defer more (one connection's write frees another's window): rounds.
  while (!deferred_.empty()) {
    running_deferred_.swap(deferred_);
    for (Deferred* work : running_deferred_) {
      work->deferred_queued_ = false;
      work->RunDeferred();
    }
    running_deferred_.clear();
  }
}

}  // namespace gantry::net
