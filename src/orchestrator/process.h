// Starting and signalling replica processes (fork/exec, no shell). Each replica leads its own
// process group, so signals reach whatever it spawned, and dies with the agent (PDEATHSIG).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace gantry::orchestrator {

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0]: a path (relative to cwd) or a name looked up on PATH
  std::vector<std::string> env;   // KEY=VALUE, the whole environment
  std::filesystem::path cwd;
  std::filesystem::path log_file;  // stdout and stderr are appended here
  // cgroup.procs files the child joins before exec (its limits hold from the first instruction).
  std::vector<std::filesystem::path> cgroup_procs;
  // Killed when the agent dies (PR_SET_PDEATHSIG); off for a detached agent, whose replicas
  // the next agent adopts.
  bool die_with_parent = true;
};

// Starts the process; fails (and leaves nothing running) if exec fails.
absl::StatusOr<pid_t> SpawnProcess(const ProcessSpec& spec);

// Sends `signal` to the process group led by `pid`.
void SignalProcessGroup(pid_t pid, int signal);

// "exited with code 1", "killed by SIGKILL".
std::string DescribeWaitStatus(int wait_status);

// The current process environment as KEY=VALUE strings.
std::vector<std::string> CurrentEnvironment();

}  // namespace gantry::orchestrator
