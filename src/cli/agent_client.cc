#include "cli/agent_client.h"

#include <cctype>
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
  http::Request request;
  request.target = path;
  GANTRY_ASSIGN_OR_RETURN(http::Response response, CallAgent(locator, request));
  if (response.status / 100 == 2) return response.body;
  return absl::UnavailableError(ErrorOf(response));
}

absl::StatusOr<http::Response> CallAgent(const AgentLocator& locator, const http::Request& request,
                                         Duration timeout) {
  GANTRY_ASSIGN_OR_RETURN(HostPort api, FindAgent(locator));
  return http::Fetch(api, request, timeout);
}

std::string ErrorOf(const http::Response& response) {
  boost::system::error_code ec;
  auto body = boost::json::parse(response.body, ec);
  if (!ec && body.is_object()) {
    if (const auto* error = body.as_object().if_contains("error"); error && error->is_string())
      return std::string(error->as_string());
  }
  return fmt::format("agent answered HTTP {}", response.status);
}

std::string PathEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out.push_back(c);
    } else {
      out += fmt::format("%{:02X}", u);
    }
  }
  return out;
}

}  // namespace gantry::cli
