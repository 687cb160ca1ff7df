// The CLI's way to the agent API.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "cli/commands.h"
#include "core/address.h"
#include "core/duration.h"
#include "http/message.h"

namespace gantry::cli {

// The agent's API: --api, then GANTRY_API, then <state dir>/agent.json (.gantry here by
// default), then the default address when no state folder was named and none is here.
struct FoundAgent {
  HostPort api;
  bool by_default = false;  // nothing named it: the default address, tried on the chance
};
absl::StatusOr<FoundAgent> FindAgent(const AgentLocator& locator);

// GET path from the agent; the body when the answer is 2xx, else the API's error as a status.
absl::StatusOr<std::string> GetFromAgent(const AgentLocator& locator, const std::string& path);

// Any request to the agent: the response whatever its status (a transport failure is an error).
absl::StatusOr<http::Response> CallAgent(const AgentLocator& locator, const http::Request& request,
                                         Duration timeout = std::chrono::seconds(10));

// The API's JSON error message of a non-2xx response ("HTTP 500" when it has none).
std::string ErrorOf(const http::Response& response);

// Percent-encodes a key for a URL path (keeps '/' and RFC 3986 unreserved characters).
std::string PathEscape(std::string_view text);

}  // namespace gantry::cli
