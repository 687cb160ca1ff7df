// gantry down: drain and stop an app that runs in the background (`gantry up -d`).
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "cli/agent_client.h"
#include "cli/commands.h"
#include "core/status.h"

namespace gantry::cli {

int Down(const AgentLocator& locator) {
  http::Request request;
  request.method = "POST";
  request.target = "/api/v1/agent/stop";
  auto response = CallAgent(locator, request);
  if (!response.ok()) {
    std::fprintf(stderr, "gantry down: %s\n",
                 std::string(StatusMessage(response.status())).c_str());
    return 1;
  }
  if (response->status / 100 != 2) {
    std::fprintf(stderr, "gantry down: %s\n", ErrorOf(*response).c_str());
    return 1;
  }
  // Replicas drain and stop (each within its stop_grace); the API goes with the agent.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  while (std::chrono::steady_clock::now() < deadline) {
    http::Request ping;
    ping.target = "/api/v1/agent";
    if (!CallAgent(locator, ping, std::chrono::seconds(2)).ok()) {
      std::printf("gantry: stopped\n");
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::fprintf(stderr, "gantry down: the agent still answers after 10 minutes\n");
  return 1;
}

}  // namespace gantry::cli
