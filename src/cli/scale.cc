// gantry scale svc=N ...: set replica counts through the agent API.
#include <cstdio>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "cli/agent_client.h"
#include "cli/commands.h"
#include "core/status.h"

namespace gantry::cli {

int Scale(const AgentLocator& locator, const std::vector<std::string>& assignments) {
  // Check every argument before changing anything.
  std::vector<std::pair<std::string, int>> targets;
  for (const std::string& assignment : assignments) {
    size_t eq = assignment.find('=');
    int count = -1;
    if (eq != std::string::npos && eq > 0 && eq + 1 < assignment.size() &&
        eq + 5 >= assignment.size()) {
      count = 0;
      for (char c : assignment.substr(eq + 1)) {
        count = c >= '0' && c <= '9' && count >= 0 ? count * 10 + (c - '0') : -1;
      }
    }
    if (count < 0 || count > 1000) {
      std::fprintf(stderr, "gantry scale: \"%s\": expected SERVICE=N with N from 0 to 1000\n",
                   assignment.c_str());
      return 2;
    }
    targets.emplace_back(assignment.substr(0, eq), count);
  }
  for (const auto& [service, count] : targets) {
    http::Request request;
    request.method = "POST";
    request.target = "/api/v1/services/" + PathEscape(service) + "/scale";
    request.body = boost::json::serialize(boost::json::object{{"replicas", count}});
    auto response = CallAgent(locator, request);
    if (!response.ok()) {
      std::fprintf(stderr, "gantry scale: %s\n",
                   std::string(StatusMessage(response.status())).c_str());
      return 1;
    }
    if (response->status / 100 != 2) {
      std::fprintf(stderr, "gantry scale: %s: %s\n", service.c_str(), ErrorOf(*response).c_str());
      return 1;
    }
    std::printf("%s scaled to %d\n", service.c_str(), count);
  }
  return 0;
}

}  // namespace gantry::cli
