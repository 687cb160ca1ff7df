#include "net/event_loop.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace gantry::net
