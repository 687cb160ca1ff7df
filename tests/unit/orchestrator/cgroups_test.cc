// Cgroups against fake cgroup trees (plain folders and files): what is detected, which files
// are written with what, and how usage is read, for v1 and v2. The real v1 tree of the build
// machine is exercised by tests/integration/test_resources.py.
#include "orchestrator/cgroups.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace gantry::orchestrator {
namespace {
namespace fs = std::filesystem;

std::string Read(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void Write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

class FakeTree : public testing::Test {
 protected:
  void SetUp() override {
    root_ =
        fs::temp_directory_path() / ("gantry-cgroups-" + std::to_string(::getpid()) + "-" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path root_;
};

TEST_F(FakeTree, V1HierarchiesUnderTheAgentsOwnGroups) {
  Write(root_ / "cpu/cgroup.procs", "");
  Write(root_ / "cpuacct/cgroup.procs", "");
  Write(root_ / "memory/cgroup.procs", "");
  Write(root_ / "self", "4:memory:/jail/x\n2:cpuacct:/\n1:cpu:/\n0::/\n");
  auto cgroups = Cgroups::Detect(root_, root_ / "self", "shop");
  ASSERT_EQ(cgroups->version(), CgroupVersion::kV1);
  auto procs = cgroups->Prepare("web-1", {0.5, 256 * 1024 * 1024});
  ASSERT_TRUE(procs.ok()) << procs.status();
  fs::path cpu = root_ / "cpu/gantry-shop/web-1";
  fs::path memory = root_ / "memory/jail/x/gantry-shop/web-1";
  EXPECT_EQ(Read(cpu / "cpu.cfs_period_us"), "100000");
  EXPECT_EQ(Read(cpu / "cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(Read(memory / "memory.limit_in_bytes"), "268435456");
  EXPECT_EQ(procs->size(), 3u);  // cpu, cpuacct and memory groups to join
  EXPECT_EQ((*procs)[2], memory / "cgroup.procs");

  ASSERT_TRUE(cgroups->SetLimits("web-1", {0, 0}).ok());  // unlimited, in place
  EXPECT_EQ(Read(cpu / "cpu.cfs_quota_us"), "-1");
  EXPECT_EQ(Read(memory / "memory.limit_in_bytes"), "-1");

  Write(root_ / "cpuacct/gantry-shop/web-1/cpuacct.usage", "2500000000\n");
  Write(memory / "memory.usage_in_bytes", "1048576\n");
  Write(memory / "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  auto usage = cgroups->Usage("web-1");
  ASSERT_TRUE(usage);
  EXPECT_DOUBLE_EQ(usage->cpu_seconds, 2.5);
  EXPECT_EQ(usage->memory_bytes, 1048576u);
  EXPECT_EQ(usage->oom_kills, 2u);
}

TEST_F(FakeTree, V2UnifiedTreeMovesTheAgentIntoALeafFirst) {
  Write(root_ / "cgroup.controllers", "cpuset cpu io memory pids\n");
  Write(root_ / "self", "0::/system.slice/gantry.service\n");
  auto cgroups = Cgroups::Detect(root_, root_ / "self", "shop");
  ASSERT_EQ(cgroups->version(), CgroupVersion::kV2);
  fs::path base = root_ / "system.slice/gantry.service";
  EXPECT_EQ(Read(base / "gantry-agent/cgroup.procs"), std::to_string(::getpid()));
  EXPECT_EQ(Read(base / "cgroup.subtree_control"), "+cpu +memory");
  EXPECT_EQ(Read(base / "gantry-shop/cgroup.subtree_control"), "+cpu +memory");
  Write(base / "gantry-shop/web-1/memory.swap.max", "max");
  auto procs = cgroups->Prepare("web-1", {1.5, 64 * 1024 * 1024});
  ASSERT_TRUE(procs.ok()) << procs.status();
  fs::path dir = base / "gantry-shop/web-1";
  EXPECT_EQ(*procs, std::vector<fs::path>{dir / "cgroup.procs"});
  EXPECT_EQ(Read(dir / "cpu.max"), "150000 100000");
  EXPECT_EQ(Read(dir / "memory.max"), "67108864");
  EXPECT_EQ(Read(dir / "memory.swap.max"), "0");  // over the limit means stopped, not swapping
  ASSERT_TRUE(cgroups->SetLimits("web-1", {0, 0}).ok());
  EXPECT_EQ(Read(dir / "cpu.max"), "max 100000");
  EXPECT_EQ(Read(dir / "memory.max"), "max");

  Write(dir / "cpu.stat", "usage_usec 750000\nuser_usec 500000\nsystem_usec 250000\n");
  Write(dir / "memory.current", "4096\n");
  Write(dir / "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
  auto usage = cgroups->Usage("web-1");
  ASSERT_TRUE(usage);
  EXPECT_DOUBLE_EQ(usage->cpu_seconds, 0.75);
  EXPECT_EQ(usage->memory_bytes, 4096u);
  EXPECT_EQ(usage->oom_kills, 1u);
}

TEST_F(FakeTree, HybridWithoutV2ControllersFallsBackToV1AndNoneIsRefused) {
  Write(root_ / "self", "1:cpu:/\n0::/\n");
  auto none = Cgroups::Detect(root_, root_ / "self", "shop");
  EXPECT_EQ(none->version(), CgroupVersion::kNone);
  auto refused = none->Prepare("web-1", {1, 0});
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(std::string(refused.status().message()).find("need cgroups"), std::string::npos);

  Write(root_ / "cgroup.controllers", "");  // a v2 mount with no controllers (hybrid)
  Write(root_ / "cpu,cpuacct/cgroup.procs", "");
  fs::create_directory_symlink(root_ / "cpu,cpuacct", root_ / "cpu");
  Write(root_ / "memory/cgroup.procs", "");
  Write(root_ / "self", "3:memory:/\n2:cpu,cpuacct:/\n0::/\n");
  auto v1 = Cgroups::Detect(root_, root_ / "self", "shop");
  EXPECT_EQ(v1->version(), CgroupVersion::kV1);
  ASSERT_TRUE(v1->Prepare("api-1", {0.25, 0}).ok());
  EXPECT_EQ(Read(root_ / "cpu/gantry-shop/api-1/cpu.cfs_quota_us"), "25000");
  v1->Remove("api-1");  // (a fake folder with files stays; cgroupfs removes its own files)
}

}  // namespace
}  // namespace gantry::orchestrator
