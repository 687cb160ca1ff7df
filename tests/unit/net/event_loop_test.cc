#include "net/event_loop.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <vector>

namespace gantry::net {
namespace {

struct Recorder : Deferred {
  Recorder(std::vector<int>& log, int id, Deferred* then = nullptr, EventLoop* loop = nullptr)
      : log(&log), id(id), then(then), loop(loop) {}
  std::vector<int>* log;
  int id;
  Deferred* then;  // deferred from inside this one's run
  EventLoop* loop;
  void RunDeferred() override {
    log->push_back(id);
    if (then) loop->Defer(then);
  }
};

TEST(EventLoop, DeferredWorkRunsOnceAfterTheBatchAndMayDeferMore) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  std::vector<int> log;
  Recorder second(log, 2);
  Recorder first(log, 1, &second, loop->get());
  (*loop)->Post([&] {
    (*loop)->Defer(&first);
    (*loop)->Defer(&first);  // asked twice in one batch: runs once
    log.push_back(0);        // the batch itself comes first
    (*loop)->Stop();
  });
  (*loop)->Run();
  EXPECT_EQ(log, (std::vector<int>{0, 1, 2}));
}

struct CountingHandler : IoHandler {
  int events = 0;
  void OnIo(uint32_t) override { ++events; }
};

struct StopAfter : TimerHandler {
  explicit StopAfter(EventLoop& loop) : loop(loop) {}
  EventLoop& loop;
  void OnTimer(Timer&) override { loop.Stop(); }
};

// A replica is started with fork(): until its exec, the child holds a copy of every descriptor
// of the agent, and epoll keeps a registration until the last copy closes. A socket the loop
// closed meanwhile must not deliver another event to its (by then deleted) handler. dup() makes
// the same second copy as the child's.
TEST(EventLoop, AClosedDescriptorDeliversNoEventWhileACopyOfItIsOpen) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair), 0);
  CountingHandler handler;
  ASSERT_TRUE((*loop)->Add(pair[0], &handler).ok());
  int copy = ::dup(pair[0]);  // the forked child's copy
  ASSERT_GE(copy, 0);
  StopAfter stopper(**loop);
  Timer stop_timer(&stopper);
  // Posted from a posted task: the first batch delivers the registration's own edge (writable).
  (*loop)->Post([&] {
    (*loop)->Post([&] {
      handler.events = 0;
      (*loop)->Close(pair[0]);
      ASSERT_EQ(::write(pair[1], "x", 1), 1);  // readiness on the still-open file
      (*loop)->timers().Arm(stop_timer, (*loop)->now_ms() + 50);
    });
  });
  (*loop)->Run();
  EXPECT_EQ(handler.events, 0);
  ::close(copy);
  ::close(pair[1]);
}

}  // namespace
}  // namespace gantry::net
