#include "config/app_diff.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "config/app_diff_fields.h"

namespace gantry::config {
namespace {

std::string Limits(const ResourcesSpec& r) {
  std::string cpus = r.cpus > 0 ? fmt::format("{:g}", r.cpus) : "unlimited";
  std::string memory =
      r.memory > 0 ? fmt::format("{}M", r.memory / (uint64_t{1024} * 1024)) : "unlimited";
  return fmt::format("cpus {}, memory {}", cpus, memory);
}

bool SameRoutes(const std::vector<RouteSpec>& a, const std::vector<RouteSpec>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].path != b[i].path || a[i].host != b[i].host || a[i].service != b[i].service ||
        a[i].strip_prefix != b[i].strip_prefix || a[i].methods != b[i].methods ||
        !(a[i].rate_limit == b[i].rate_limit)) {
      return false;
    }
  }
  return true;
}

}  // namespace

const char* ChangeKindName(AppChange::Kind kind) {
  switch (kind) {
    case AppChange::Kind::kAddService:
      return "add";
    case AppChange::Kind::kRemoveService:
      return "remove";
    case AppChange::Kind::kReplicas:
      return "replicas";
    case AppChange::Kind::kResources:
      return "resources";
    case AppChange::Kind::kPolicy:
      return "policy";
    case AppChange::Kind::kReplace:
      return "replace";
    case AppChange::Kind::kRoutes:
      return "routes";
    case AppChange::Kind::kListen:
      return "listen";
  }
  return "?";
}

std::vector<AppChange> DiffApps(const AppSpec& before, const AppSpec& after) {
  using Kind = AppChange::Kind;
  std::vector<AppChange> changes;
  ServiceIndex before_index(before), after_index(after);
  for (const ServiceSpec& old : before.services) {
    if (!after_index.Find(old.name)) {
      changes.push_back({Kind::kRemoveService, old.name, "removed: its replicas stop"});
    }
  }
  for (const ServiceSpec& now : after.services) {
    const ServiceSpec* old = before_index.Find(now.name);
    if (!old) {
      changes.push_back(
          {Kind::kAddService, now.name, fmt::format("new service, {} replicas", now.replicas)});
      continue;
    }
    // Each field's lines go with the change that acts on it: a replacement or an in-place one.
    std::vector<std::string> replace_fields, hot_fields;
    for (std::string& line : ChangedFields(*old, now)) {
      bool replacing = false;
      for (std::string_view name :
           {"command:", "env.", "health:", "restart:", "depends_on:", "stop_grace:"}) {
        replacing = replacing || line.starts_with(name);
      }
      if (line.starts_with("replicas:")) continue;  // the replicas change says it already
      (replacing ? replace_fields : hot_fields).push_back(std::move(line));
    }
    std::vector<std::string> replaced;
    if (old->command != now.command) replaced.push_back("command");
    if (old->env != now.env) replaced.push_back("env");
    if (!(old->health == now.health)) replaced.push_back("health");
    if (old->restart != now.restart) replaced.push_back("restart");
    if (old->depends_on != now.depends_on) replaced.push_back("depends_on");
    if (old->stop_grace != now.stop_grace) replaced.push_back("stop_grace");
    if (!replaced.empty()) {
      changes.push_back(
          {Kind::kReplace, now.name,
           fmt::format("{}: replicas replaced (rolling, max_surge {}, "
                       "max_unavailable {})",
                       fmt::join(replaced, ", "), now.update.max_surge, now.update.max_unavailable),
           std::move(replace_fields)});
    }
    if (old->replicas != now.replicas) {
      changes.push_back({Kind::kReplicas, now.name,
                         fmt::format("replicas {} -> {}", old->replicas, now.replicas)});
    }
    if (!(old->resources == now.resources)) {
      changes.push_back(
          {Kind::kResources, now.name,
           fmt::format("{} -> {} (in place)", Limits(old->resources), Limits(now.resources))});
    }
    std::vector<std::string> hot;
    if (!(old->policy == now.policy)) hot.push_back("policy");
    if (old->protocol != now.protocol) hot.push_back("protocol");
    if (old->subscribe != now.subscribe) hot.push_back("subscribe");
    if (!(old->autoscale == now.autoscale)) hot.push_back("autoscale");
    if (!(old->update == now.update)) hot.push_back("update");
    if (!hot.empty()) {
      changes.push_back({Kind::kPolicy, now.name,
                         fmt::format("{} (in place)", fmt::join(hot, ", ")),
                         std::move(hot_fields)});
    }
  }
  if (!SameRoutes(before.gateway.routes, after.gateway.routes)) {
    changes.push_back({Kind::kRoutes, "",
                       fmt::format("gateway routes: {} -> {} (in place)",
                                   before.gateway.routes.size(), after.gateway.routes.size()),
                       ChangedRoutes(before.gateway.routes, after.gateway.routes)});
  }
  if (before.gateway.listen != after.gateway.listen || before.mesh.listen != after.mesh.listen) {
    changes.push_back({Kind::kListen, "", "gateway.listen or mesh.listen: needs an agent restart"});
  }
  if (before.gateway.tls != after.gateway.tls) {
    changes.push_back({Kind::kListen, "", "gateway.tls: needs an agent restart"});
  }
  return changes;
}

std::string DescribeChanges(const std::vector<AppChange>& changes) {
  if (changes.empty()) return "no changes\n";
  std::string out;
  for (const AppChange& change : changes) {
    char mark = change.kind == AppChange::Kind::kAddService      ? '+'
                : change.kind == AppChange::Kind::kRemoveService ? '-'
                : change.kind == AppChange::Kind::kListen        ? '!'
                                                                 : '~';
    fmt::format_to(std::back_inserter(out), "{} {}{}{}\n", mark, change.service,
                   change.service.empty() ? "" : ": ", change.detail);
    for (const std::string& field : change.fields) {
      fmt::format_to(std::back_inserter(out), "    {}\n", field);
    }
  }
  return out;
}

}  // namespace gantry::config
