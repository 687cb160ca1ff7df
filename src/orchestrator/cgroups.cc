#include "orchestrator/cgroups.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "orchestrator/proc_stats.h"

namespace gantry::orchestrator {
namespace fs = std::filesystem;
namespace {

constexpr uint64_t kCpuPeriodUs = 100000;

std::string ReadFile(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::Status WriteFile(const fs::path& file, const std::string& value) {
  std::ofstream out(file);
  out << value;
  out.flush();
  if (!out) {
    return absl::PermissionDeniedError(
        fmt::format("cannot write {} to {}: {}", value, file.string(), std::strerror(errno)));
  }
  return absl::OkStatus();
}

// "key value" lines (cpu.stat, memory.events, memory.oom_control): the value of `key`.
uint64_t KeyedValue(const std::string& text, std::string_view key) {
  std::istringstream in(text);
  std::string name;
  uint64_t value = 0;
  while (in >> name >> value) {
    if (name == key) return value;
  }
  return 0;
}

uint64_t NumberIn(const fs::path& file) {
  std::string text = ReadFile(file);
  return text.empty() ? 0 : std::strtoull(text.c_str(), nullptr, 10);
}

absl::Status MakeDirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        fmt::format("cannot create cgroup {}: {}", dir.string(), ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace

std::unique_ptr<Cgroups> Cgroups::Detect(const fs::path& root, const fs::path& proc_self_cgroup,
                                         const std::string& app) {
  // "ID:controllers:path" per hierarchy; "0::path" is the unified (v2) one.
  std::string v2_base;
  std::string cpu_base, cpuacct_base, memory_base;
  bool has_cpu = false, has_cpuacct = false, has_memory = false;
  std::istringstream lines(ReadFile(proc_self_cgroup));
  for (std::string line; std::getline(lines, line);) {
    size_t first = line.find(':');
    size_t second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    if (controllers.empty()) v2_base = path;
    std::istringstream names(controllers);
    for (std::string name; std::getline(names, name, ',');) {
      if (name == "cpu") has_cpu = true, cpu_base = path;
      if (name == "cpuacct") has_cpuacct = true, cpuacct_base = path;
      if (name == "memory") has_memory = true, memory_base = path;
    }
  }
  std::string v2_controllers = ReadFile(root / "cgroup.controllers");
  bool v2 = v2_controllers.find("cpu") != std::string::npos &&
            v2_controllers.find("memory") != std::string::npos;
  if (v2) {
    auto cgroups =
        std::unique_ptr<Cgroups>(new Cgroups(CgroupVersion::kV2, root, v2_base, "", "", "", app));
    // No process may stay in a group whose controllers are handed to children: the agent moves
    // itself into a leaf of its own first, then enables cpu and memory below.
    fs::path base = root / fs::path(v2_base).relative_path();
    fs::path agent_leaf = base / "gantry-agent";
    fs::path app_dir = base / cgroups->app_dir_;
    bool ok = MakeDirs(agent_leaf).ok() &&
              WriteFile(agent_leaf / "cgroup.procs", std::to_string(::getpid())).ok() &&
              WriteFile(base / "cgroup.subtree_control", "+cpu +memory").ok() &&
              MakeDirs(app_dir).ok() &&
              WriteFile(app_dir / "cgroup.subtree_control", "+cpu +memory").ok();
    if (ok) return cgroups;
  }
  if (has_cpu && has_memory && fs::exists(root / "cpu" / "cgroup.procs") &&
      fs::exists(root / "memory" / "cgroup.procs")) {
    if (!has_cpuacct) cpuacct_base = cpu_base;
    return std::unique_ptr<Cgroups>(
        new Cgroups(CgroupVersion::kV1, root, "", cpu_base, cpuacct_base, memory_base, app));
  }
  return std::unique_ptr<Cgroups>(new Cgroups(CgroupVersion::kNone, root, "", "", "", "", app));
}

Cgroups::Cgroups(CgroupVersion version, fs::path root, std::string v2_base, std::string cpu_base,
                 std::string cpuacct_base, std::string memory_base, const std::string& app)
    : version_(version),
      root_(std::move(root)),
      v2_base_(std::move(v2_base)),
      cpu_base_(std::move(cpu_base)),
      cpuacct_base_(std::move(cpuacct_base)),
      memory_base_(std::move(memory_base)),
      app_dir_("gantry-" + app) {}

Cgroups::~Cgroups() {
  // The agent is stopping, its replicas stopped: what is still in their groups goes too. Killed
  // processes leave their groups a moment later, so the removal is tried for up to a second.
  if (version_ != CgroupVersion::kNone) {
    CleanUp({});
    for (int attempt = 0; attempt < 100 && !RemoveLeftovers(); ++attempt) ::usleep(10'000);
  }
  std::error_code ignored;  // not empty (replicas left behind): kept
  for (const fs::path& dir : Dirs("")) fs::remove(dir.parent_path(), ignored);  // gantry-<app>
}

fs::path Cgroups::V2Dir(const std::string& replica) const {
  return root_ / fs::path(v2_base_).relative_path() / app_dir_ / replica;
}

fs::path Cgroups::V1Dir(const char* controller, const std::string& base,
                        const std::string& replica) const {
  fs::path hierarchy = root_ / controller;
  if (std::string(controller) == "cpuacct" && !fs::exists(hierarchy)) hierarchy = root_ / "cpu";
  return hierarchy / fs::path(base).relative_path() / app_dir_ / replica;
}

std::vector<fs::path> Cgroups::Dirs(const std::string& replica) const {
  std::vector<fs::path> dirs;
  if (version_ == CgroupVersion::kV2) {
    dirs.push_back(V2Dir(replica));
  } else if (version_ == CgroupVersion::kV1) {
    for (fs::path dir : {V1Dir("cpu", cpu_base_, replica), V1Dir("cpuacct", cpuacct_base_, replica),
                         V1Dir("memory", memory_base_, replica)}) {
      if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(std::move(dir));
    }
  }
  return dirs;
}

absl::StatusOr<std::vector<fs::path>> Cgroups::Prepare(const std::string& replica,
                                                       const ResourceLimits& limits) {
  if (version_ == CgroupVersion::kNone) {
    return absl::FailedPreconditionError(
        "CPU and memory limits need cgroups (v1 cpu and memory hierarchies, or v2 with the cpu "
        "and memory controllers), and none were found");
  }
  std::vector<fs::path> procs;
  for (const fs::path& dir : Dirs(replica)) {
    if (auto status = MakeDirs(dir); !status.ok()) return status;
    procs.push_back(dir / "cgroup.procs");
  }
  if (auto status = SetLimits(replica, limits); !status.ok()) return status;
  return procs;
}

absl::Status Cgroups::SetLimits(const std::string& replica, const ResourceLimits& limits) {
  auto quota_us = static_cast<int64_t>(std::llround(limits.cpus * kCpuPeriodUs));
  if (version_ == CgroupVersion::kV2) {
    fs::path dir = V2Dir(replica);
    std::string cpu_max = limits.cpus > 0 ? fmt::format("{} {}", quota_us, kCpuPeriodUs)
                                          : fmt::format("max {}", kCpuPeriodUs);
    if (auto status = WriteFile(dir / "cpu.max", cpu_max); !status.ok()) return status;
    std::string memory = limits.memory > 0 ? std::to_string(limits.memory) : "max";
    if (auto status = WriteFile(dir / "memory.max", memory); !status.ok()) return status;
    // Without this, a replica over its limit would swap instead of being stopped.
    if (fs::exists(dir / "memory.swap.max")) {
      (void)WriteFile(dir / "memory.swap.max", limits.memory > 0 ? "0" : "max");
    }
    return absl::OkStatus();
  }
  if (version_ != CgroupVersion::kV1) return absl::FailedPreconditionError("no cgroups");
  fs::path cpu = V1Dir("cpu", cpu_base_, replica);
  fs::path memory = V1Dir("memory", memory_base_, replica);
  if (auto status = WriteFile(cpu / "cpu.cfs_period_us", std::to_string(kCpuPeriodUs));
      !status.ok()) {
    return status;
  }
  if (auto status =
          WriteFile(cpu / "cpu.cfs_quota_us", limits.cpus > 0 ? std::to_string(quota_us) : "-1");
      !status.ok()) {
    return status;
  }
  return WriteFile(memory / "memory.limit_in_bytes",
                   limits.memory > 0 ? std::to_string(limits.memory) : "-1");
}

std::optional<CgroupUsage> Cgroups::Usage(const std::string& replica) const {
  CgroupUsage usage;
  if (version_ == CgroupVersion::kV2) {
    fs::path dir = V2Dir(replica);
    if (!fs::exists(dir)) return std::nullopt;
    usage.cpu_seconds =
        static_cast<double>(KeyedValue(ReadFile(dir / "cpu.stat"), "usage_usec")) / 1e6;
    usage.memory_bytes = NumberIn(dir / "memory.current");
    usage.oom_kills = KeyedValue(ReadFile(dir / "memory.events"), "oom_kill");
    return usage;
  }
  if (version_ != CgroupVersion::kV1) return std::nullopt;
  fs::path cpuacct = V1Dir("cpuacct", cpuacct_base_, replica);
  fs::path memory = V1Dir("memory", memory_base_, replica);
  if (!fs::exists(memory)) return std::nullopt;
  usage.cpu_seconds = static_cast<double>(NumberIn(cpuacct / "cpuacct.usage")) / 1e9;
  usage.memory_bytes = NumberIn(memory / "memory.usage_in_bytes");
  usage.oom_kills = KeyedValue(ReadFile(memory / "memory.oom_control"), "oom_kill");
  return usage;
}

absl::Status Cgroups::MoveProcessGroup(const std::string& replica, int pgid) {
  // The members of the process group (field 5 of /proc/<pid>/stat).
  std::vector<int> members;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    auto fields = ProcStatFields(std::stoi(name));
    if (fields && fields->size() > 2 && (*fields)[2] == std::to_string(pgid)) {
      members.push_back(std::stoi(name));
    }
  }
  for (const fs::path& dir : Dirs(replica)) {
    for (int pid : members) {
      if (auto status = WriteFile(dir / "cgroup.procs", std::to_string(pid)); !status.ok()) {
        return status;
      }
    }
  }
  return absl::OkStatus();
}

void Cgroups::KillAll(const std::string& replica) {
  for (const fs::path& dir : Dirs(replica)) {
    // cgroup.kill (v2, Linux 5.14) kills the whole group at once, forks racing it included.
    if (version_ == CgroupVersion::kV2 && fs::exists(dir / "cgroup.kill") &&
        WriteFile(dir / "cgroup.kill", "1").ok()) {
      continue;
    }
    std::istringstream pids(ReadFile(dir / "cgroup.procs"));
    for (int pid; pids >> pid;) {
      if (pid > 0) ::kill(pid, SIGKILL);
    }
  }
}

bool Cgroups::Remove(const std::string& replica) {
  bool removed = true;
  for (const fs::path& dir : Dirs(replica)) {
    std::error_code ec;
    fs::remove(dir, ec);
    // EBUSY: processes still in it (cgroupfs says so for a group that is not empty); any other
    // failure is not going to pass.
    if (ec == std::errc::device_or_resource_busy) removed = false;
  }
  return removed;
}

std::vector<std::string> Cgroups::CleanUp(const std::set<std::string>& keep) {
  std::set<std::string> found;
  for (const fs::path& dir : Dirs("")) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir.parent_path(), ec)) {
      if (!entry.is_directory()) continue;
      std::string name = entry.path().filename().string();
      if (!keep.count(name)) found.insert(name);
    }
  }
  for (const std::string& name : found) {
    KillAll(name);
    if (!Remove(name)) leftovers_.insert(name);
  }
  return {found.begin(), found.end()};
}

bool Cgroups::RemoveLeftovers() {
  for (auto it = leftovers_.begin(); it != leftovers_.end();) {
    KillAll(*it);
    it = Remove(*it) ? leftovers_.erase(it) : std::next(it);
  }
  return leftovers_.empty();
}

}  // namespace gantry::orchestrator
