// Crash test: a writer process appends numbered records and reports each acknowledged one over
// a pipe; it is killed with SIGKILL at a random point; the log is reopened, and every record
// that was acknowledged must be there, in order (later ones may be too: they were durable
// before the writer could report them).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>

#include <gtest/gtest.h>

#include "store/wal.h"

namespace gantry::store {
namespace {

std::vector<std::string> Replay(const std::filesystem::path& path) {
  std::vector<std::string> records;
  auto wal = Wal::Open(path, [&](std::string_view r) {
    records.emplace_back(r);
    return absl::OkStatus();
  });
  EXPECT_TRUE(wal.ok()) << wal.status();
  return records;
}

[[noreturn]] void Writer(const std::filesystem::path& path, int first, int report_fd) {
  auto wal = Wal::Open(path, [](std::string_view) { return absl::OkStatus(); });
  if (!wal.ok()) ::_exit(2);
  int next = first;
  for (int batch_number = 0;; ++batch_number) {
    // Batches of 1 to 3 records, as group commit produces.
    std::vector<std::string> batch;
    batch.reserve(3);
    for (int j = 0; j < 1 + batch_number % 3; ++j)
      batch.push_back("record-" + std::to_string(next++));
    if (!(*wal)->Append(batch).ok()) ::_exit(3);
    int last = next - 1;
    if (::write(report_fd, &last, sizeof last) != sizeof last) ::_exit(4);
  }
}

TEST(WalCrash, EveryAcknowledgedRecordSurvivesKill9) {
  auto dir =
      std::filesystem::temp_directory_path() / ("gantry-wal-crash-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto path = dir / "wal";
  std::mt19937 rng(20261125);
  for (int round = 0; round < 12; ++round) {
    SCOPED_TRACE(testing::Message() << "round " << round);
    std::vector<std::string> before = Replay(path);
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(pipe_fds[0]);
      Writer(path, static_cast<int>(before.size()), pipe_fds[1]);
    }
    ::close(pipe_fds[1]);
    int wanted = 1 + static_cast<int>(rng() % 150);
    int last_acked = -1;
    for (int acks = 0; acks < wanted; ++acks) {
      int value = 0;
      ASSERT_EQ(::read(pipe_fds[0], &value, sizeof value), static_cast<ssize_t>(sizeof value));
      last_acked = value;
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the writer failed by itself";
    ::close(pipe_fds[0]);

    std::vector<std::string> after = Replay(path);
    ASSERT_GT(static_cast<int>(after.size()), last_acked);
    for (size_t i = 0; i < after.size(); ++i) ASSERT_EQ(after[i], "record-" + std::to_string(i));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gantry::store
