// gantry restart SERVICE...: replace every replica of each service, hitlessly (the agent
// answers when the rollout is done).
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/agent_client.h"
#include "cli/commands.h"
#include "core/status.h"

namespace gantry::cli {

int Restart(const AgentLocator& locator, const std::vector<std::string>& services) {
  for (const std::string& service : services) {
    http::Request request;
    request.method = "POST";
    request.target = "/api/v1/services/" + PathEscape(service) + "/restart";
    auto response = CallAgent(locator, request, std::chrono::minutes(30));
    if (!response.ok()) {
      std::fprintf(stderr, "gantry restart: %s\n",
                   std::string(StatusMessage(response.status())).c_str());
      return 1;
    }
    if (response->status / 100 != 2) {
      std::fprintf(stderr, "gantry restart: %s: %s\n", service.c_str(), ErrorOf(*response).c_str());
      return 1;
    }
    std::printf("%s restarted\n", service.c_str());
  }
  return 0;
}

}  // namespace gantry::cli
