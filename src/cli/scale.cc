// gantry scale svc=N ... [--cpus X] [--memory SIZE]: replica counts and, for the services named,
// CPU and memory limits changed in place, through the agent API.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "cli/agent_client.h"
#include "cli/commands.h"
#include "core/status.h"

namespace gantry::cli {

int Scale(const ScaleFlags& flags) {
  bool resources = flags.cpus || flags.memory;
  // Check every argument before changing anything.
  struct Target {
    std::string service;
    std::optional<int> replicas;
  };
  std::vector<Target> targets;
  for (const std::string& argument : flags.targets) {
    size_t eq = argument.find('=');
    Target target{argument.substr(0, eq), std::nullopt};
    if (eq != std::string::npos) {
      std::string count = argument.substr(eq + 1);
      bool digits = !count.empty() && count.size() <= 4 &&
                    count.find_first_not_of("0123456789") == std::string::npos;
      if (!digits || std::stoi(count) > 1000 || target.service.empty()) {
        std::fprintf(stderr, "gantry scale: \"%s\": expected SERVICE=N with N from 0 to 1000\n",
                     argument.c_str());
        return 2;
      }
      target.replicas = std::stoi(count);
    } else if (!resources) {
      std::fprintf(stderr,
                   "gantry scale: \"%s\": expected SERVICE=N (or --cpus/--memory for limits)\n",
                   argument.c_str());
      return 2;
    }
    targets.push_back(target);
  }
  for (const Target& target : targets) {
    boost::json::object body;
    if (target.replicas) body["replicas"] = *target.replicas;
    if (flags.cpus) body["cpus"] = *flags.cpus;
    if (flags.memory) body["memory"] = *flags.memory;
    http::Request request;
    request.method = "POST";
    request.target = "/api/v1/services/" + PathEscape(target.service) + "/scale";
    request.body = boost::json::serialize(body);
    auto response = CallAgent(flags.locator, request);
    if (!response.ok()) {
      std::fprintf(stderr, "gantry scale: %s\n",
                   std::string(StatusMessage(response.status())).c_str());
      return 1;
    }
    if (response->status / 100 != 2) {
      std::fprintf(stderr, "gantry scale: %s: %s\n", target.service.c_str(),
                   ErrorOf(*response).c_str());
      return 1;
    }
    if (target.replicas) std::printf("%s scaled to %d\n", target.service.c_str(), *target.replicas);
    if (resources) std::printf("%s limits set\n", target.service.c_str());
  }
  return 0;
}

}  // namespace gantry::cli
