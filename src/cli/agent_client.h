// The CLI's way to the agent API.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "cli/commands.h"
#include "core/address.h"

namespace gantry::cli {

absl::StatusOr<HostPort> FindAgent(const AgentLocator& locator);

// GET path from the agent; the body when the answer is 2xx, else the API's error as a status.
absl::StatusOr<std::string> GetFromAgent(const AgentLocator& locator, const std::string& path);

}  // namespace gantry::cli
