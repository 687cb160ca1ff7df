// The state folder (.gantry/ beside the app file): replica logs and agent.json, which tells
// CLI commands run in that folder where the running agent's API is.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "core/address.h"

namespace gantry::agent {

// Where the API listens unless told otherwise, and where the CLI looks when nothing says.
inline const HostPort kDefaultApi{"127.0.0.1", 7700};

struct AgentFile {
  int pid = 0;
  HostPort api;
  HostPort gateway;
  HostPort mesh;
  bool gateway_tls = false;  // the gateway speaks TLS (https://)
};

std::filesystem::path DefaultStateDir(const std::filesystem::path& app_file);

// Fails when another live agent already owns this state folder.
absl::Status ClaimStateDir(const std::filesystem::path& state_dir);
absl::Status WriteAgentFile(const std::filesystem::path& state_dir, const AgentFile& file);
absl::StatusOr<AgentFile> ReadAgentFile(const std::filesystem::path& state_dir);
void RemoveAgentFile(const std::filesystem::path& state_dir);

}  // namespace gantry::agent
