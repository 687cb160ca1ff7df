// POST /api/v1/apply, before anything changes: the new app file parsed and compared with the
// running one. What the answer lists (each change, and the text `gantry apply` prints), which
// services' replicas must be replaced, and whether the change needs a restart of the agent.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>

#include <boost/json/object.hpp>

#include "config/app_spec.h"
#include "http/message.h"

namespace gantry::agent {

struct ApplyPlan {
  std::optional<http::Response> refused;  // a bad file (400, every error with file:line:col)
  std::unique_ptr<config::AppSpec> next;
  bool changed = false;
  std::set<std::string> replace;  // services whose replicas are replaced (rolling)
  bool listen_changed = false;    // gateway/mesh listeners or TLS: only a restart applies it
  boost::json::object answer;     // {"changes": [...], "text": ...}
};

ApplyPlan PlanApply(const config::AppSpec& running, const std::string& text);

}  // namespace gantry::agent
