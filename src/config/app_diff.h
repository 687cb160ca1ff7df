// What changes when a running app's file is replaced (`gantry apply`): per service, whether it
// is added, removed, rescaled, given new limits, new balancing/resilience policy or autoscale
// settings (all applied in place), or needs its replicas replaced (command, env, health,
// protocol, dependencies, stop_grace, update); and app-wide, new routes (in place) or new
// listen addresses (which need the agent restarted). Pure.
#pragma once

#include <string>
#include <vector>

#include "config/app_spec.h"

namespace gantry::config {

struct AppChange {
  enum class Kind {
    kAddService,
    kRemoveService,
    kReplicas,
    kResources,
    kPolicy,   // policy, autoscale, update: in place
    kReplace,  // replicas must be replaced (a rolling restart with the new settings)
    kRoutes,   // gateway routes: in place
    kListen,   // gateway.listen or mesh.listen: needs an agent restart
  };
  Kind kind;
  std::string service;                   // "" for app-wide changes
  std::string detail;                    // for people: "replicas 3 -> 5", "command, env"
  std::vector<std::string> fields = {};  // each changed field: "env.GREETING: \"one\" -> \"two\""
};

std::vector<AppChange> DiffApps(const AppSpec& before, const AppSpec& after);

// One line per change: "+ web: new service, 2 replicas", "~ web: replicas 3 -> 5", ..., each
// followed by its fields' old and new values, indented.
std::string DescribeChanges(const std::vector<AppChange>& changes);

const char* ChangeKindName(AppChange::Kind kind);

}  // namespace gantry::config
