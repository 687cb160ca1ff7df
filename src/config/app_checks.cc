#include "config/app_checks.h"

#include <map>

#include <fmt/format.h>

#include "config/yaml_reader.h"
#include "core/strings.h"

namespace gantry::config {
namespace {

// Depth-first search; `trail` is the current path, `done` the services proven cycle-free.
bool FindCycle(const AppSpec& spec, const ServiceSpec& s, std::vector<std::string>& trail,
               std::map<std::string, bool>& done) {
  if (done[s.name]) return false;
  auto seen = std::find(trail.begin(), trail.end(), s.name) - trail.begin();
  bool cycle = seen != static_cast<std::ptrdiff_t>(trail.size());
  trail.push_back(s.name);
  if (cycle) {
    trail.erase(trail.begin(), trail.begin() + seen);
    return true;
  }
  for (const auto& dep : s.depends_on) {
    const ServiceSpec* next = spec.FindService(dep);
    if (next && FindCycle(spec, *next, trail, done)) return true;
  }
  trail.pop_back();
  done[s.name] = true;
  return false;
}

}  // namespace

void CheckReferences(const AppSpec& spec, const References& refs, Diagnostics& diag) {
  std::vector<std::string> names;
  for (const auto& s : spec.services) names.push_back(s.name);
  for (const auto& ref : refs.refs_) {
    if (spec.FindService(ref.service)) continue;
    std::string message = fmt::format("{}: no service named \"{}\"", ref.path, ref.service);
    if (auto close = ClosestMatch(ref.service, names)) {
      message += fmt::format("; did you mean \"{}\"?", *close);
    }
    diag.Add(ref.at, std::move(message));
  }

  std::map<std::string, bool> done;
  for (const auto& s : spec.services) {
    std::vector<std::string> trail;
    if (FindCycle(spec, s, trail, done)) {
      const ServiceSpec* start = spec.FindService(trail.front());
      diag.Add(start->location,
               fmt::format("services: dependency cycle: {}", fmt::join(trail, " -> ")));
      break;  // one cycle is enough to act on
    }
  }

  for (size_t i = 0; i < spec.gateway.routes.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      const RouteSpec& a = spec.gateway.routes[j];
      const RouteSpec& b = spec.gateway.routes[i];
      if (a.host == b.host && a.path == b.path) {
        diag.Add(b.location, fmt::format("gateway.routes[{}]: same host and path as the route at "
                                         "{}:{}",
                                         i, a.location.line, a.location.column));
      }
    }
  }
}

}  // namespace gantry::config
