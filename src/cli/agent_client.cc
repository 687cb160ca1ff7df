#include "cli/agent_client.h"

#include <cstdlib>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "agent/state_dir.h"
#include "core/status.h"
#include "http/client.h"

namespace gantry::cli {

absl::StatusOr<HostPort> FindAgent(const AgentLocator& locator) {
  if (!locator.api.empty()) return ParseHostPort(locator.api);
  if (const char* env = std::getenv("GANTRY_API"); env && *env) return ParseHostPort(env);
  std::filesystem::path state_dir = locator.state_dir.empty() ? ".gantry" : locator.state_dir;
  auto file = agent::ReadAgentFile(state_dir);
  if (!file.ok()) {
    return absl::NotFoundError(
        fmt::format("no agent found: run `gantry up` here, or pass --api or set GANTRY_API ({})",
                    StatusMessage(file.status())));
  }
  return file->api;
}

absl::StatusOr<std::string> GetFromAgent(const AgentLocator& locator, const std::string& path) {
  GANTRY_ASSIGN_OR_RETURN(HostPort api, FindAgent(locator));
  http::Request request;
  request.target = path;
  GANTRY_ASSIGN_OR_RETURN(http::Response response,
                          http::Fetch(api, request, std::chrono::seconds(10)));
  if (response.status / 100 == 2) return response.body;
  boost::system::error_code ec;
  auto body = boost::json::parse(response.body, ec);
  if (!ec && body.is_object() && body.as_object().contains("error")) {
    return absl::UnavailableError(boost::json::value_to<std::string>(body.as_object().at("error")));
  }
  return absl::UnavailableError(fmt::format("agent answered HTTP {}", response.status));
}

}  // namespace gantry::cli
