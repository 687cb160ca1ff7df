#include "api/api.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "api/json_http.h"
#include "api/prometheus_sd.h"
#include "api/traces_api.h"
#include "core/size.h"
#include "core/status.h"
#include "net/asio.h"
#include "registry/instance_json.h"
#include "telemetry/prometheus.h"
#include "ui/dashboard.h"
#include "version.h"

namespace gantry::api {
namespace json = boost::json;
namespace {

http::Response UnknownService(const std::string& name) {
  return http::JsonError(404, "unknown_service", fmt::format("no service named \"{}\"", name));
}

// Seconds since the epoch (for JSON timestamps).
double UnixSeconds(std::chrono::system_clock::time_point at) {
  return std::chrono::duration<double>(at.time_since_epoch()).count();
}

}  // namespace

Api::Api(net::asio::io_context& io, AgentInfo info, ApiDeps deps, Clock& clock)
    : info_(std::move(info)),
      registry_(deps.registry),
      supervisor_(deps.supervisor),
      events_(deps.events),
      events_waiters_(io),
      clock_(clock),
      kv_(io, deps.store),
      lock_service_(io, deps.store),
      locks_(lock_service_),
      election_service_(io, deps.store, "gantry/elections/"),
      elections_(election_service_),
      topics_(deps.broker ? std::make_unique<TopicsApi>(io, *deps.broker, deps.subscriptions)
                          : nullptr),
      instances_(deps.registry, deps.registry_store, deps.checker, deps.store),
      logs_(info_.logs_dir, deps.supervisor),
      registry_waiters_(io),
      proxy_stats_(std::move(deps.proxy_stats)),
      metrics_(std::move(deps.metrics)),
      traces_(deps.traces),
      calls_(deps.calls),
      key_owner_(std::move(deps.key_owner)),
      stop_agent_(std::move(deps.stop_agent)),
      apply_(std::move(deps.apply)) {}

void Api::Handle(const http::Request& request, http::Respond respond) {
  std::string_view path = request.Path();
  constexpr std::string_view kKv = "/api/v1/kv/";
  constexpr std::string_view kLeases = "/api/v1/leases";
  if (path.starts_with(kKv))
    return kv_.HandleKv(request, path.substr(kKv.size()), std::move(respond));
  if (path == "/api/v1/kv") return kv_.HandleKv(request, "", std::move(respond));
  constexpr std::string_view kInstances = "/api/v1/instances";
  auto under = [path](std::string_view base) {
    return path.starts_with(base) && (path.size() == base.size() || path[base.size()] == '/');
  };
  if (under(kLeases))
    return kv_.HandleLeases(request, path.substr(kLeases.size()), std::move(respond));
  constexpr std::string_view kLocks = "/api/v1/locks";
  if (under(kLocks)) return locks_.Handle(request, path.substr(kLocks.size()), std::move(respond));
  constexpr std::string_view kTopics = "/api/v1/topics";
  if (under(kTopics) && topics_) {
    return topics_->Handle(request, path.substr(kTopics.size()), std::move(respond));
  }
  constexpr std::string_view kElections = "/api/v1/elections";
  if (under(kElections)) {
    return elections_.Handle(request, path.substr(kElections.size()), std::move(respond));
  }
  if (under(kInstances)) {
    return instances_.Handle(request, path.substr(kInstances.size()), respond);
  }
  if (path == "/metrics" && metrics_) {
    if (request.method != "GET" && request.method != "HEAD") {
      return respond(MethodNotAllowed(request, "GET"));
    }
    http::Response response;
    response.headers.emplace_back("Content-Type", std::string(telemetry::kContentType));
    response.body = metrics_();
    return respond(std::move(response));
  }
  constexpr std::string_view kTraces = "/api/v1/traces";
  if (under(kTraces)) {
    if (!traces_) {
      return respond(
          http::JsonError(404, "tracing_off", "tracing is off (the agent runs with --no-tracing)"));
    }
    return HandleTraces(*traces_, request, path.substr(kTraces.size()), respond);
  }
  if (under(ui::kDashboardPath)) return respond(ui::ServeDashboard(request));
  if (path == "/api/v1/topology") {
    if (request.method != "GET" && request.method != "HEAD") {
      return respond(MethodNotAllowed(request, "GET"));
    }
    if (!calls_) {
      return respond(
          http::JsonError(404, "tracing_off", "tracing is off (the agent runs with --no-tracing)"));
    }
    return respond(Topology(*calls_));
  }
  if (path == "/api/v1/sd/prometheus") {
    if (request.method != "GET" && request.method != "HEAD") {
      return respond(MethodNotAllowed(request, "GET"));
    }
    return respond(PrometheusTargets(registry_));
  }
  if (path == "/api/v1/proxy/stats" && proxy_stats_) {
    if (request.method != "GET" && request.method != "HEAD") {
      return respond(MethodNotAllowed(request, "GET"));
    }
    http::Response response;
    response.headers.emplace_back("Content-Type", "application/json");
    response.body = proxy_stats_();
    return respond(std::move(response));
  }
  std::vector<std::string> seg = Segments(path);
  if (seg.size() < 2 || seg[0] != "api" || seg[1] != "v1") {
    return respond(http::JsonError(404, "not_found", fmt::format("no such endpoint: {}", path)));
  }
  seg.erase(seg.begin(), seg.begin() + 2);
  if (seg.size() == 1 && seg[0] == "events") return HandleEvents(request, std::move(respond));
  if (seg.size() == 1 && seg[0] == "apply" && apply_) {
    if (request.method != "POST") return respond(MethodNotAllowed(request, "POST"));
    return apply_(request.body, QueryParam(request.Query(), "dry_run") == "true", respond);
  }
  if (seg.size() == 2 && seg[0] == "agent" && seg[1] == "stop" && stop_agent_) {
    if (request.method != "POST") return respond(MethodNotAllowed(request, "POST"));
    respond(Json(json::object{{"stopping", true}}, 0, 202));
    return stop_agent_();  // the answer is written first: stopping ends with this server
  }
  if (seg.size() == 2 && seg[0] == "logs") {
    if (request.method != "GET" && request.method != "HEAD") {
      return respond(MethodNotAllowed(request, "GET"));
    }
    return respond(logs_.Get(seg[1], request.Query()));
  }
  if (seg.size() == 3 && seg[0] == "services" && seg[2] == "restart") {
    if (request.method != "POST") return respond(MethodNotAllowed(request, "POST"));
    // Answered when the rollout ends (the client waits, as `gantry restart` does).
    return supervisor_.Restart(seg[1], [service = seg[1], respond](const absl::Status& status) {
      if (status.ok())
        return respond(Json(json::object{{"service", service}, {"restarted", true}}));
      int code = absl::IsNotFound(status) ? 404 : absl::IsFailedPrecondition(status) ? 409 : 500;
      const char* name = code == 404   ? "unknown_service"
                         : code == 409 ? "conflict"
                                       : "rollout_failed";
      respond(http::JsonError(code, name, std::string(StatusMessage(status))));
    });
  }
  if (seg.size() == 3 && seg[0] == "services" && seg[2] == "owner" && key_owner_) {
    if (request.method != "GET" && request.method != "HEAD") {
      return respond(MethodNotAllowed(request, "GET"));
    }
    std::optional<std::string> key = QueryParam(request.Query(), "key");
    if (!key) {
      return respond(http::JsonError(400, "invalid_argument", "the key is missing: ?key=K"));
    }
    return respond(key_owner_(seg[1], *key));
  }
  if (seg.size() == 3 && seg[0] == "services" && seg[2] == "scale") {
    if (request.method != "POST") return respond(MethodNotAllowed(request, "POST"));
    return respond(Scale(seg[1], request));
  }
  bool registry_read =
      !seg.empty() && (seg[0] == "agent" || seg[0] == "services" || seg[0] == "replicas");
  if (!registry_read) {
    static const std::vector<std::string> kNotBuilt = {"instances"};
    if (!seg.empty() && std::find(kNotBuilt.begin(), kNotBuilt.end(), seg[0]) != kNotBuilt.end()) {
      return respond(
          http::JsonError(501, "not_supported", fmt::format("{} is not supported yet", path)));
    }
    return respond(http::JsonError(404, "not_found", fmt::format("no such endpoint: {}", path)));
  }
  if (request.method != "GET" && request.method != "HEAD") {
    return respond(MethodNotAllowed(request, "GET"));
  }
  std::string_view query = request.Query();
  BlockingParse blocking = ParseBlocking(query);
  if (blocking.error) return respond(std::move(*blocking.error));
  if (!blocking.query) return respond(RegistryRead(seg, query));
  uint64_t index = blocking.query->index;
  // The registry's index starts over when the agent does: one from before answers at once.
  if (index > registry_.index()) return respond(RegistryRead(seg, query));
  registry_waiters_.Park(
      blocking.query->wait, [this, index] { return registry_.index() > index; },
      [this, seg, query = std::string(query), respond = std::move(respond)] {
        respond(RegistryRead(seg, query));
      },
      request.abandonment);
}

http::Response Api::RegistryRead(const std::vector<std::string>& seg,
                                 std::string_view query) const {
  if (seg.size() == 1 && seg[0] == "agent") return Agent();
  if (seg.size() == 1 && seg[0] == "services") return Services();
  if (seg.size() == 2 && seg[0] == "services") return Service(seg[1]);
  if (seg.size() == 3 && seg[0] == "services" && seg[2] == "instances") {
    return Instances(seg[1], QueryParam(query, "healthy") == "true");
  }
  if (seg.size() == 1 && seg[0] == "replicas") {
    return Replicas(QueryParam(query, "service").value_or(""));
  }
  return http::JsonError(404, "not_found", "no such endpoint");
}

// {"replicas": N} and/or {"cpus": 0.5, "memory": "256M"} (0 or "0": no limit).
http::Response Api::Scale(const std::string& service, const http::Request& request) {
  auto parsed = ParseObject(request.body, {"replicas", "cpus", "memory"});
  if (auto* error = std::get_if<http::Response>(&parsed)) return std::move(*error);
  const json::object& body = std::get<json::object>(parsed);
  const json::value* replicas = body.if_contains("replicas");
  const json::value* cpus = body.if_contains("cpus");
  const json::value* memory = body.if_contains("memory");
  if (!replicas && !cpus && !memory) {
    return http::JsonError(400, "invalid_argument", "give \"replicas\", \"cpus\" or \"memory\"");
  }
  if (replicas &&
      (!replicas->is_int64() || replicas->as_int64() < 0 || replicas->as_int64() > 1000)) {
    return http::JsonError(400, "invalid_argument",
                           "\"replicas\" must be a whole number from 0 to 1000");
  }
  auto fail = [&](const absl::Status& status) {
    if (absl::IsNotFound(status)) {
      return http::JsonError(404, "unknown_service", std::string(StatusMessage(status)));
    }
    return http::JsonError(409, "conflict", std::string(StatusMessage(status)));
  };
  json::object answer{{"service", service}};
  if (cpus || memory) {
    orchestrator::ResourceLimits limits = supervisor_.LimitsOf(service);
    if (cpus) {
      if (!cpus->is_number() || cpus->to_number<double>() < 0 ||
          cpus->to_number<double>() > orchestrator::ResourceLimits::kMaxCpus) {
        return http::JsonError(400, "invalid_argument",
                               fmt::format("\"cpus\" must be a number from 0 to {}",
                                           orchestrator::ResourceLimits::kMaxCpus));
      }
      limits.cpus = cpus->to_number<double>();
    }
    if (memory) {
      auto text = memory->is_string() ? std::string(memory->as_string()) : "";
      auto size = text == "0" ? absl::StatusOr<uint64_t>(0) : ParseSize(text);
      if (!size.ok() || (*size != 0 && *size < orchestrator::ResourceLimits::kMinMemory)) {
        return http::JsonError(
            400, "invalid_argument",
            fmt::format("\"memory\" must be a size such as \"256M\" (at least {}), or \"0\"",
                        FormatSize(orchestrator::ResourceLimits::kMinMemory)));
      }
      limits.memory = *size;
    }
    if (auto status = supervisor_.SetResources(service, limits); !status.ok()) return fail(status);
    answer["cpus"] = limits.cpus;
    answer["memory_bytes"] = limits.memory;
  }
  if (replicas) {
    absl::Status status = supervisor_.Scale(service, static_cast<int>(replicas->as_int64()));
    if (!status.ok()) return fail(status);
    answer["replicas"] = replicas->as_int64();
  }
  return Json(answer);
}

// GET /api/v1/events[?index=N&wait=D]: the events after N (all kept ones without it),
// waiting for one when there is none yet.
void Api::HandleEvents(const http::Request& request, http::Respond respond) {
  if (request.method != "GET" && request.method != "HEAD") {
    return respond(MethodNotAllowed(request, "GET"));
  }
  BlockingParse blocking = ParseBlocking(request.Query());
  if (blocking.error) return respond(std::move(*blocking.error));
  if (!blocking.query) return respond(Events(0));
  uint64_t index = blocking.query->index;
  if (index > events_.index()) return respond(Events(0));  // from an earlier agent
  events_waiters_.Park(
      blocking.query->wait, [this, index] { return events_.index() > index; },
      [this, index, respond = std::move(respond)] { respond(Events(index)); }, request.abandonment);
}

http::Response Api::Events(uint64_t after) const {
  json::array out;
  for (const orchestrator::Event& event : events_.Since(after)) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(event.time.time_since_epoch());
    out.emplace_back(json::object{{"index", event.index},
                                  {"time_ms", ms.count()},
                                  {"kind", event.kind},
                                  {"service", event.service},
                                  {"instance", event.instance},
                                  {"message", event.message}});
  }
  return Json(out, events_.index());
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
    json::object check{{"kind", registry::CheckKindName(instance->check.kind)},
                       {"output", instance->check_output}};
    if (instance->health_changed_at != std::chrono::system_clock::time_point{}) {
      check["changed_at"] = UnixSeconds(instance->health_changed_at);
    }
    out.push_back(json::object{{"id", instance->id},
                               {"service", instance->service},
                               {"address", instance->address.ToString()},
                               {"health", registry::HealthName(instance->health)},
                               {"tags", std::move(tags)},
                               {"source", instance->source},
                               {"check", std::move(check)}});
  }
  return Json(out, registry_.index());
}

http::Response Api::Replicas(const std::string& service) const {
  if (!service.empty() && !registry_.services().count(service)) return UnknownService(service);
  std::vector<orchestrator::ReplicaView> replicas = supervisor_.Replicas();
  // By service, then by number: web-2 before web-10.
  auto number = [](const std::string& id) {
    size_t dash = id.rfind('-');
    return dash == std::string::npos ? 0 : std::strtol(id.c_str() + dash + 1, nullptr, 10);
  };
  std::sort(replicas.begin(), replicas.end(), [&](const auto& a, const auto& b) {
    if (a.service != b.service) return a.service < b.service;
    long na = number(a.id), nb = number(b.id);
    return na != nb ? na < nb : a.id < b.id;
  });
  json::array out;
  for (const auto& replica : replicas) {
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
        {"reason", replica.reason},
        {"check", instance ? instance->check_output : ""}};
    if (instance && instance->health_changed_at != std::chrono::system_clock::time_point{}) {
      row["check_changed_at"] = UnixSeconds(instance->health_changed_at);
    }
    if (auto usage = supervisor_.Usage(replica.id); running && usage) {
      row["cpu_seconds"] = usage->cpu_seconds;
      row["memory_bytes"] = usage->memory_bytes;
    }
    orchestrator::ResourceLimits limits = supervisor_.LimitsOf(replica.service);
    if (limits.cpus > 0) row["cpu_limit"] = limits.cpus;
    if (limits.memory > 0) row["memory_limit_bytes"] = limits.memory;
    out.push_back(std::move(row));
  }
  return Json(out, registry_.index());
}

}  // namespace gantry::api
