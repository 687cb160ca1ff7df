#include "cli/agent_client.h"

#include <cctype>
#include <cstdlib>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "agent/state_dir.h"
#include "core/status.h"
#include "http/client.h"

namespace gantry::cli {

absl::StatusOr<FoundAgent> FindAgent(const AgentLocator& locator) {
  auto named = [](absl::StatusOr<HostPort> api) -> absl::StatusOr<FoundAgent> {
    if (!api.ok()) return api.status();
    return FoundAgent{*api, false};
  };
  if (!locator.api.empty()) return named(ParseHostPort(locator.api));
  if (const char* env = std::getenv("GANTRY_API"); env && *env) return named(ParseHostPort(env));
  std::filesystem::path state_dir = locator.state_dir.empty() ? ".gantry" : locator.state_dir;
  auto file = agent::ReadAgentFile(state_dir);
  if (file.ok()) return FoundAgent{file->api, false};
  if (locator.state_dir.empty() && !std::filesystem::exists(state_dir)) {
    return FoundAgent{agent::kDefaultApi, true};  // an agent started elsewhere, on the default
  }
  return absl::NotFoundError(
      fmt::format("no agent found: run `gantry up` here, or pass --api or set GANTRY_API ({})",
                  StatusMessage(file.status())));
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
  GANTRY_ASSIGN_OR_RETURN(FoundAgent agent, FindAgent(locator));
  absl::StatusOr<http::Response> response = http::Fetch(agent.api, request, timeout);
  if (!response.ok() && agent.by_default) {
    return absl::UnavailableError(fmt::format(
        "no agent found: none runs from .gantry/ here, and none answers at {} (the default "
        "address); run `gantry up`, or pass --api or set GANTRY_API",
        agent.api.ToString()));
  }
  return response;
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
