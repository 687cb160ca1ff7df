#include "orchestrator/process.h"

#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>

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
                   dir / "out.log"};
  auto pid = SpawnProcess(spec);
  ASSERT_TRUE(pid.ok()) << pid.status();
  int status = 0;
  ASSERT_EQ(::waitpid(*pid, &status, 0), *pid);
  EXPECT_EQ(DescribeWaitStatus(status), "exited with code 0");
  EXPECT_EQ(ReadFile(dir / "out.log"), "hi from " + dir.string() + "\noops\n");
}

TEST(SpawnProcess, ReportsExecFailure) {
  auto dir = TempDir();
  auto pid = SpawnProcess({{"./no-such-binary"}, {}, dir, dir / "x.log"});
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.status().message().find("No such file"), std::string::npos) << pid.status();
}

TEST(SignalProcessGroup, ReachesTheWholeGroup) {
  auto dir = TempDir();
  auto pid =
      SpawnProcess({{"sh", "-c", "sleep 30 & wait"}, {"PATH=/usr/bin:/bin"}, dir, dir / "g.log"});
  ASSERT_TRUE(pid.ok());
  SignalProcessGroup(*pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(*pid, &status, 0), *pid);
  EXPECT_EQ(DescribeWaitStatus(status), "killed by SIGKILL");
  EXPECT_EQ(::kill(-*pid, 0), -1);  // the sleep went with it: the group is empty
}

}  // namespace
}  // namespace gantry::orchestrator
