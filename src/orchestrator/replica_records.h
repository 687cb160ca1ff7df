// What an agent writes down about its running replicas (<state dir>/replicas.json), so that
// the next agent on the same state folder can adopt them after the first one was killed: pid,
// the process's start time (so that a reused pid is never taken for the replica), port,
// restarts. Written whenever a replica starts or exits (atomically: a temporary file renamed).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace gantry::orchestrator {

struct ReplicaRecord {
  std::string id;
  std::string service;
  pid_t pid = 0;
  uint64_t start_time = 0;  // /proc/<pid>/stat field 22 (clock ticks since boot)
  uint16_t port = 0;
  int restarts = 0;
};

absl::Status SaveReplicaRecords(const std::filesystem::path& file,
                                const std::vector<ReplicaRecord>& records);
// The records of the file; none when it is missing or unreadable (nothing to adopt).
std::vector<ReplicaRecord> LoadReplicaRecords(const std::filesystem::path& file);

}  // namespace gantry::orchestrator
