#include "orchestrator/process.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

namespace gantry::orchestrator {
namespace {

std::filesystem::path TempDir() {
  auto dir = std::filesystem::temp_directory_path() /
             ("gantry-process-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(SpawnProcess, RunsArgvWithEnvInDirectoryAndCapturesOutput) {
  auto dir = TempDir();
  ProcessSpec spec{{"sh", "-c", "echo \"$GREETING from $(pwd)\"; echo oops >&2"},
                   {"GREETING=hi", "PATH=/usr/bin:/bin"},
                   dir,
                   dir / "out.log",
                   {}};
  auto pid = SpawnProcess(spec);
  ASSERT_TRUE(pid.ok()) << pid.status();
  int status = 0;
  ASSERT_EQ(::waitpid(*pid, &status, 0), *pid);
  EXPECT_EQ(DescribeWaitStatus(status), "exited with code 0");
  EXPECT_EQ(ReadFile(dir / "out.log"), "hi from " + dir.string() + "\noops\n");
}

TEST(SpawnProcess, ReportsExecFailure) {
  auto dir = TempDir();
  auto pid = SpawnProcess({{"./no-such-binary"}, {}, dir, dir / "x.log", {}});
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.status().message().find("No such file"), std::string::npos) << pid.status();
}

// Polls `done` until it holds or the deadline passes, reaping orphans meanwhile.
bool WaitUntil(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(SignalProcessGroup, ReachesTheWholeGroup) {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);  // the orphaned sleep is ours to reap
  auto dir = TempDir();
  auto pid = SpawnProcess({{"sh", "-c", "sleep 30 & echo started; wait"},
                           {"PATH=/usr/bin:/bin"},
                           dir,
                           dir / "g.log",
                           {}});
  ASSERT_TRUE(pid.ok());
  ASSERT_TRUE(WaitUntil([&] { return ReadFile(dir / "g.log") == "started\n"; }));
  ASSERT_EQ(::kill(-*pid, 0), 0);
  SignalProcessGroup(*pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(*pid, &status, 0), *pid);
  EXPECT_EQ(DescribeWaitStatus(status), "killed by SIGKILL");
  // The sleep went with it: once reaped, nothing of the group is left.
  EXPECT_TRUE(WaitUntil([&] { return ::kill(-*pid, 0) == -1 && errno == ESRCH; }));
}

}  // namespace
}  // namespace gantry::orchestrator
