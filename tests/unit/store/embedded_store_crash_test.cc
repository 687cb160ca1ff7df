// Crash test of the whole embedded store (snapshots included): a writer process keeps 32 puts in
// flight and reports each acknowledged one over a pipe; it is killed with SIGKILL at a random
// point; the store is reopened: every acknowledged put is there with its value, and the revision
// goes on from at least the last acknowledged one.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>

#include <gtest/gtest.h>

#include "unit/store/store_test_support.h"

namespace gantry::store {
namespace {

// Small logs, so kills also land during and around snapshots.
EmbeddedStoreOptions Options(const std::filesystem::path& dir) {
  EmbeddedStoreOptions options;
  options.dir = dir;
  options.history_events = 1000;
  options.snapshot_after_bytes = 8192;
  return options;
}

struct Ack {
  int64_t n;
  Revision revision;
};

[[noreturn]] void Writer(const std::filesystem::path& dir, int64_t first, int report_fd) {
  net::asio::io_context io;
  auto store = EmbeddedStore::Open(io, Options(dir));
  if (!store.ok()) ::_exit(2);
  int64_t next = first;
  std::function<void()> put_next = [&] {
    int64_t n = next++;
    (*store)->Put("c/" + std::to_string(n), "v" + std::to_string(n), {},
                  [&, n](absl::StatusOr<Revision> r) {
                    if (!r.ok()) ::_exit(3);
                    Ack ack{n, *r};
                    if (::write(report_fd, &ack, sizeof ack) != sizeof ack) ::_exit(4);
                    put_next();
                  });
  };
  for (int i = 0; i < 32; ++i) put_next();
  io.run();
  ::_exit(5);
}

TEST(EmbeddedStoreCrash, EveryAcknowledgedPutSurvivesKill9) {
  auto dir = testing::FreshDir("crash");
  std::mt19937 rng(20261125);
  int64_t next = 0;
  for (int round = 0; round < 10; ++round) {
    SCOPED_TRACE(::testing::Message() << "round " << round);
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(pipe_fds[0]);
      Writer(dir, next, pipe_fds[1]);
    }
    ::close(pipe_fds[1]);
    std::vector<Ack> acks;
    int wanted = 1 + static_cast<int>(rng() % 400);
    for (int i = 0; i < wanted; ++i) {
      Ack ack{};
      if (::read(pipe_fds[0], &ack, sizeof ack) != static_cast<ssize_t>(sizeof ack)) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        FAIL() << "the writer stopped early, wait status " << status;
      }
      acks.push_back(ack);
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the writer failed";
    ::close(pipe_fds[0]);

    net::asio::io_context io;
    auto store = EmbeddedStore::Open(io, Options(dir));
    ASSERT_TRUE(store.ok()) << store.status();
    auto all = testing::Await<RangeResult>(io, [&](const Done<RangeResult>& done) {
      (*store)->Range({"c/", true}, done);
    });
    ASSERT_TRUE(all.ok());
    std::map<std::string, KeyValue> found;
    for (const auto& kv : all->kvs) found[kv.key] = kv;
    Revision last_acked = 0;
    for (const Ack& ack : acks) {
      auto it = found.find("c/" + std::to_string(ack.n));
      ASSERT_NE(it, found.end()) << "acknowledged put " << ack.n << " is lost";
      EXPECT_EQ(it->second.value, "v" + std::to_string(ack.n));
      EXPECT_EQ(it->second.mod_revision, ack.revision);
      last_acked = std::max(last_acked, ack.revision);
    }
    EXPECT_GE((*store)->revision(), last_acked);
    // Unacknowledged puts may have landed too (durable before the ack was sent), never holes.
    EXPECT_EQ(all->revision, 1 + static_cast<Revision>(found.size()));
    next += 100000;  // each round writes keys of its own
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gantry::store
