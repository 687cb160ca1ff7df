// CPU time and resident memory of a process, read from /proc (for `ps`).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace gantry::orchestrator {

struct ProcStats {
  double cpu_seconds = 0;     // user + system, since the process started
  uint64_t memory_bytes = 0;  // resident set size
};

std::optional<ProcStats> ReadProcStats(pid_t pid);

}  // namespace gantry::orchestrator
