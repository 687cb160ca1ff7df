// What /proc says about a process: CPU time and resident memory (for `ps`), whether it runs and
// when it started (adoption checks that a pid is still the same process). Thread-compatible.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gantry::orchestrator {

struct ProcStats {
  double cpu_seconds = 0;     // user + system, since the process started
  uint64_t memory_bytes = 0;  // resident set size
};

std::optional<ProcStats> ReadProcStats(pid_t pid);

// The fields of /proc/<pid>/stat from the third (state, ppid, pgrp, ...) on: element i is field
// i + 3 of proc(5). nullopt when there is no such process.
std::optional<std::vector<std::string>> ProcStatFields(pid_t pid);

// Whether `pid` runs: a zombie (exited, not yet reaped) does not.
bool ProcessRuns(pid_t pid);

// When process `pid` started (field 22, clock ticks since boot), or nullopt when it does not run.
std::optional<uint64_t> ProcessStartTime(pid_t pid);

}  // namespace gantry::orchestrator
