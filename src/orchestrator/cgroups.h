// CPU and memory limits per replica through cgroups, v1 (separate cpu, cpuacct and memory
// hierarchies, as on this build machine) and v2 (one unified tree, as on most hosts). Each
// replica gets its own group under the agent's own (so gantry nests wherever it was put):
//   v1: <root>/{cpu,cpuacct,memory}/<agent's group>/gantry-<app>/<replica>
//   v2: <root>/<agent's group>/gantry-<app>/<replica>  (cpu and memory enabled for children)
// where <app> names the app and its state folder (the agent's caller chooses it), so that the
// next agent on that folder finds its predecessor's groups.
// The child joins its groups itself between fork and exec (ProcessSpec::cgroup_procs), so no
// instruction of the replica runs outside its limits. Every replica gets groups, limits or not:
// they are how all of its processes are found and killed when it ends, also those that left
// its process group (setsid), as a container's die with it.
// Control-plane thread only. `root` is /sys/fs/cgroup except in tests (a fake tree).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "config/app_spec.h"

namespace gantry::orchestrator {

// A replica's limits: the app file's `resources:`, or what `gantry scale` set since.
using ResourceLimits = config::ResourcesSpec;

struct CgroupUsage {
  double cpu_seconds = 0;  // since the group was made
  uint64_t memory_bytes = 0;
  uint64_t oom_kills = 0;  // processes the kernel killed for the group's memory limit
};

enum class CgroupVersion { kNone, kV1, kV2 };

class Cgroups {
 public:
  // Finds the cgroup version the machine runs and the agent's own group (from
  // `proc_self_cgroup`, normally /proc/self/cgroup). kNone when neither a v2 tree with the cpu
  // and memory controllers nor v1 cpu and memory hierarchies are there.
  static std::unique_ptr<Cgroups> Detect(const std::filesystem::path& root,
                                         const std::filesystem::path& proc_self_cgroup,
                                         const std::string& app);

  ~Cgroups();  // removes the app's (empty) parent groups
  CgroupVersion version() const { return version_; }

  // Makes (or reuses) the replica's groups and sets their limits. Returns the cgroup.procs files
  // the child must write its pid to.
  absl::StatusOr<std::vector<std::filesystem::path>> Prepare(const std::string& replica,
                                                             const ResourceLimits& limits);
  // Moves a running process (every process of its process group `pgid`) into the replica's
  // groups, made by Prepare: for limits given to a replica that started without any.
  absl::Status MoveProcessGroup(const std::string& replica, int pgid);
  // Changes the limits of a running replica in place.
  absl::Status SetLimits(const std::string& replica, const ResourceLimits& limits);
  std::optional<CgroupUsage> Usage(const std::string& replica) const;
  // SIGKILL to every process in the replica's groups.
  void KillAll(const std::string& replica);
  // Removes the replica's groups; false while one still holds a process (killed, not yet gone:
  // try again).
  bool Remove(const std::string& replica);
  // The groups under the app's that are not `keep`'s (an earlier agent's, killed with its
  // replicas: whatever they left behind): their processes are killed, the groups removed (now,
  // or by a later RemoveLeftovers). Returns the names of the groups found.
  std::vector<std::string> CleanUp(const std::set<std::string>& keep);
  // Tries again to remove what CleanUp could not yet; true when nothing is left.
  bool RemoveLeftovers();

 private:
  Cgroups(CgroupVersion version, std::filesystem::path root, std::string v2_base,
          std::string cpu_base, std::string cpuacct_base, std::string memory_base,
          const std::string& app);
  // The replica's groups, one per hierarchy (cpu and cpuacct may be one); none without cgroups.
  std::vector<std::filesystem::path> Dirs(const std::string& replica) const;
  std::filesystem::path V2Dir(const std::string& replica) const;
  std::filesystem::path V1Dir(const char* controller, const std::string& base,
                              const std::string& replica) const;

  CgroupVersion version_;
  std::filesystem::path root_;
  std::string v2_base_;                                // the agent's group in the unified tree
  std::string cpu_base_, cpuacct_base_, memory_base_;  // the agent's v1 groups
  std::string app_dir_;                                // gantry-<app>
  std::set<std::string> leftovers_;                    // CleanUp's groups not removed yet
};

}  // namespace gantry::orchestrator
