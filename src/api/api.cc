#include "api/api.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include "orchestrator/proc_stats.h"
#include "version.h"

namespace gantry::api {
namespace json = boost::json;
namespace {

http::Response Json(const json::value& body, uint64_t index = 0) {
  http::Response r;
  r.headers.emplace_back("Content-Type", "application/json");
  if (index) r.headers.emplace_back("X-Gantry-Index", std::to_string(index));
  r.body = json::serialize(body);
  r.body += '\n';
  return r;
}

// Query parameter `name`, or "" when absent.
std::string QueryParam(std::string_view query, std::string_view name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t end = query.find('&', pos);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(pos, end - pos);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name)
      return eq == std::string_view::npos ? "true" : std::string(pair.substr(eq + 1));
    pos = end + 1;
  }
  return "";
}

std::vector<std::string> Segments(std::string_view path) {
  std::vector<std::string> out;
  size_t pos = 1;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    if (end > pos) out.emplace_back(path.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

http::Response UnknownService(const std::string& name) {
  return http::JsonError(404, "unknown_service", fmt::format("no service named \"{}\"", name));
}

// Seconds on the wall clock for a steady-clock instant (for JSON timestamps).
double UnixSeconds(Clock& clock, Clock::TimePoint at) {
  auto wall = std::chrono::system_clock::now() - (clock.Now() - at);
  return std::chrono::duration<double>(wall.time_since_epoch()).count();
}

}  // namespace

Api::Api(AgentInfo info, const registry::Registry& registry,
         const orchestrator::Supervisor& supervisor, Clock& clock)
    : info_(std::move(info)), registry_(registry), supervisor_(supervisor), clock_(clock) {}

http::Response Api::Handle(const http::Request& request) const {
  std::vector<std::string> seg = Segments(request.Path());
  if (seg.size() < 2 || seg[0] != "api" || seg[1] != "v1") {
    return http::JsonError(404, "not_found", fmt::format("no such endpoint: {}", request.Path()));
  }
  seg.erase(seg.begin(), seg.begin() + 2);
  std::string_view query = request.Query();
  bool known_read =
      !seg.empty() && (seg[0] == "agent" || seg[0] == "services" || seg[0] == "replicas");
  if (known_read && request.method != "GET" && request.method != "HEAD") {
    return http::JsonError(405, "method_not_allowed",
                           fmt::format("{} is not allowed on {}", request.method, request.Path()));
  }
  if (known_read && !QueryParam(query, "index").empty()) {
    return http::JsonError(501, "not_supported",
                           "blocking queries (?index=) are not supported yet");
  }
  if (seg.size() == 1 && seg[0] == "agent") return Agent();
  if (seg.size() == 1 && seg[0] == "services") return Services();
  if (seg.size() == 2 && seg[0] == "services") return Service(seg[1]);
  if (seg.size() == 3 && seg[0] == "services" && seg[2] == "instances") {
    return Instances(seg[1], QueryParam(query, "healthy") == "true");
  }
  if (seg.size() == 1 && seg[0] == "replicas") return Replicas(QueryParam(query, "service"));
  static const std::vector<std::string> kNotBuilt = {"instances", "apply",  "kv",     "leases",
                                                     "locks",     "topics", "traces", "sd"};
  if (!seg.empty() && std::find(kNotBuilt.begin(), kNotBuilt.end(), seg[0]) != kNotBuilt.end()) {
    return http::JsonError(501, "not_supported",
                           fmt::format("{} is not supported yet", request.Path()));
  }
  return http::JsonError(404, "not_found", fmt::format("no such endpoint: {}", request.Path()));
}

http::Response Api::Agent() const {
  return Json({{"app", info_.app},
               {"pid", info_.pid},
               {"version", kVersion},
               {"api", "http://" + info_.api.ToString()},
               {"gateway", "http://" + info_.gateway.ToString()},
               {"mesh", "http://" + info_.mesh.ToString()}});
}

namespace {
json::object ServiceSummary(const registry::Registry& registry, const std::string& name) {
  auto instances = registry.InstancesOf(name);
  int64_t healthy = std::count_if(instances.begin(), instances.end(), [](const auto* i) {
    return i->health == registry::Health::kHealthy;
  });
  return {{"name", name}, {"instances", instances.size()}, {"healthy", healthy}};
}
}  // namespace

http::Response Api::Services() const {
  json::array out;
  for (const auto& name : registry_.services()) out.push_back(ServiceSummary(registry_, name));
  return Json(out, registry_.index());
}

http::Response Api::Service(const std::string& name) const {
  if (!registry_.services().count(name)) return UnknownService(name);
  return Json(ServiceSummary(registry_, name), registry_.index());
}

http::Response Api::Instances(const std::string& name, bool healthy_only) const {
  if (!registry_.services().count(name)) return UnknownService(name);
  json::array out;
  for (const auto* instance : registry_.InstancesOf(name)) {
    if (healthy_only && instance->health != registry::Health::kHealthy) continue;
    json::array tags;
    for (const auto& tag : instance->tags) tags.push_back(json::value(tag));
    json::object check{{"output", instance->check_output}};
    if (instance->health_changed_at != Clock::TimePoint{}) {
      check["changed_at"] = UnixSeconds(clock_, instance->health_changed_at);
    }
    out.push_back(json::object{{"id", instance->id},
                               {"service", instance->service},
                               {"address", instance->address.ToString()},
                               {"health", registry::HealthName(instance->health)},
                               {"tags", std::move(tags)},
                               {"check", std::move(check)}});
  }
  return Json(out, registry_.index());
}

http::Response Api::Replicas(const std::string& service) const {
  json::array out;
  for (const auto& replica : supervisor_.Replicas()) {
    if (!service.empty() && replica.service != service) continue;
    const registry::Instance* instance = registry_.Find(replica.id);
    bool running = replica.pid != 0;
    json::object row{
        {"id", replica.id},
        {"service", replica.service},
        {"pid", replica.pid},
        {"address", replica.address.port ? replica.address.ToString() : ""},
        {"state", orchestrator::ReplicaStateName(replica.state)},
        {"health", instance ? registry::HealthName(instance->health) : "unknown"},
        {"restarts", replica.restarts},
        {"uptime_seconds",
         running ? std::chrono::duration<double>(clock_.Now() - replica.started_at).count() : 0.0},
        {"last_exit", replica.last_exit},
        {"check", instance ? instance->check_output : ""}};
    if (auto stats = orchestrator::ReadProcStats(replica.pid); running && stats) {
      row["cpu_seconds"] = stats->cpu_seconds;
      row["memory_bytes"] = stats->memory_bytes;
    }
    out.push_back(std::move(row));
  }
  return Json(out, registry_.index());
}

}  // namespace gantry::api
