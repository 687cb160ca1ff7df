#include "config/app_checks.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

#include "config/yaml_reader.h"
#include "core/strings.h"

namespace gantry::config {
namespace {

// A cycle among depends_on, as the services on it in order (empty when there is none). An
// iterative depth-first search: a chain of 60,000 services must not take 60,000 stack frames.
std::vector<std::string> FindCycle(const AppSpec& spec, const ServiceIndex& index) {
  enum class Mark : uint8_t { kNew, kOnPath, kDone };
  std::unordered_map<const ServiceSpec*, Mark> marks;
  marks.reserve(spec.services.size());
  struct Frame {
    const ServiceSpec* service;
    size_t next_dep = 0;
  };
  for (const auto& root : spec.services) {
    if (marks[&root] != Mark::kNew) continue;
    std::vector<Frame> path{{&root}};
    marks[&root] = Mark::kOnPath;
    while (!path.empty()) {
      Frame& top = path.back();
      if (top.next_dep == top.service->depends_on.size()) {
        marks[top.service] = Mark::kDone;
        path.pop_back();
        continue;
      }
      const ServiceSpec* next = index.Find(top.service->depends_on[top.next_dep++]);
      if (!next) continue;  // a missing service: reported as a reference
      Mark& mark = marks[next];
      if (mark == Mark::kDone) continue;
      if (mark == Mark::kOnPath) {
        std::vector<std::string> cycle;
        auto from = std::find_if(path.begin(), path.end(),
                                 [next](const Frame& f) { return f.service == next; });
        for (auto it = from; it != path.end(); ++it) cycle.push_back(it->service->name);
        cycle.push_back(next->name);
        return cycle;
      }
      mark = Mark::kOnPath;
      path.push_back({next});
    }
  }
  return {};
}

}  // namespace

void CheckReferences(const AppSpec& spec, const References& refs, Diagnostics& diag) {
  ServiceIndex index(spec);
  std::vector<std::string> names;
  for (const auto& ref : refs.refs_) {
    if (index.Find(ref.service)) continue;
    if (names.empty()) {
      for (const auto& s : spec.services) names.push_back(s.name);
    }
    std::string message = fmt::format("{}: no service named \"{}\"", ref.path, ref.service);
    if (auto close = ClosestMatch(ref.service, names)) {
      message += fmt::format("; did you mean \"{}\"?", *close);
    }
    diag.Add(ref.at, std::move(message));
  }

  std::vector<std::string> cycle = FindCycle(spec, index);
  if (!cycle.empty()) {  // one cycle is enough to act on
    diag.Add(index.Find(cycle.front())->location,
             fmt::format("services: dependency cycle: {}", fmt::join(cycle, " -> ")));
  }

  std::map<std::pair<std::string_view, std::string_view>, const RouteSpec*> routes;
  for (size_t i = 0; i < spec.gateway.routes.size(); ++i) {
    const RouteSpec& route = spec.gateway.routes[i];
    auto [it, added] = routes.emplace(
        std::make_pair(std::string_view(route.host), std::string_view(route.path)), &route);
    if (!added) {
      diag.Add(route.location,
               fmt::format("gateway.routes[{}]: same host and path as the route at "
                           "{}:{}",
                           i, it->second->location.line, it->second->location.column));
    }
  }
}

}  // namespace gantry::config
