#include "api/instances_api.h"

#include <random>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "api/json_http.h"
#include "core/status.h"
#include "net/socket.h"

namespace gantry::api {
namespace json = boost::json;
namespace {

using Kind = config::HealthSpec::Kind;

http::Response Bad(std::string_view message) {
  return http::JsonError(400, "invalid_argument", message);
}

// 409 for an id that belongs to a replica gantry runs (its service's replica count rules it).
http::Response ReplicaConflict(const std::string& id) {
  return http::JsonError(409, "conflict",
                         fmt::format("{} is a replica gantry runs; scale its service instead", id));
}

bool ValidName(std::string_view name) {
  return !name.empty() && name.size() <= 253 && name.find('/') == std::string_view::npos;
}

// The check of a registration, or the 400 to answer.
std::variant<config::HealthSpec, http::Response> ParseCheck(const json::value* value) {
  config::HealthSpec spec;
  if (!value) return spec;
  if (!value->is_object()) return Bad("\"check\" must be an object");
  const json::object& c = value->as_object();
  for (const auto& field : c) {
    static constexpr std::string_view kFields[] = {
        "ttl", "http", "tcp", "grpc", "interval", "timeout", "healthy_after", "unhealthy_after"};
    if (std::find(std::begin(kFields), std::end(kFields), field.key()) == std::end(kFields)) {
      return http::JsonError(400, "unknown_field",
                             fmt::format("unknown field \"check.{}\"", std::string(field.key())));
    }
  }
  int kinds = c.contains("ttl") + c.contains("http") + c.contains("tcp") + c.contains("grpc");
  if (kinds != 1) return Bad("\"check\" needs exactly one of ttl, http, tcp or grpc");
  if (c.contains("ttl")) {
    auto ttl = DurationField(c, "ttl", {});
    if (auto* error = std::get_if<std::string>(&ttl)) return Bad(*error);
    spec.kind = Kind::kTtl;
    spec.ttl = std::get<Duration>(ttl);
    if (spec.ttl < std::chrono::seconds(1) || spec.ttl > std::chrono::hours(24))
      return Bad("check.ttl must be from 1s to 24h");
  } else if (c.contains("http")) {
    auto path = StringField(c, "http");
    if (!path || !path->starts_with("/")) return Bad("check.http must be a path starting with /");
    spec.kind = Kind::kHttp;
    spec.http_path = *path;
  } else if (c.contains("grpc")) {
    // true: the whole server; a string: one service of it.
    const json::value& grpc = c.at("grpc");
    if (grpc.is_bool() && grpc.as_bool()) {
      spec.kind = Kind::kGrpc;
    } else if (grpc.is_string()) {
      spec.kind = Kind::kGrpc;
      spec.grpc_service = std::string(grpc.as_string());
    } else {
      return Bad("check.grpc must be true or a service name");
    }
  } else {
    if (!c.at("tcp").is_bool()) return Bad("check.tcp must be true or false");
    spec.kind = c.at("tcp").as_bool() ? Kind::kTcp : Kind::kNone;
  }
  for (auto [name, target] : {std::pair{"interval", &spec.interval}, {"timeout", &spec.timeout}}) {
    auto d = DurationField(c, name, *target);
    if (auto* error = std::get_if<std::string>(&d)) return Bad(*error);
    *target = std::get<Duration>(d);
    if (target->count() <= 0) return Bad(fmt::format("check.{} must be more than 0", name));
  }
  for (auto [name, target] : {std::pair{"healthy_after", &spec.healthy_after},
                              {"unhealthy_after", &spec.unhealthy_after}}) {
    if (const json::value* v = c.if_contains(name)) {
      if (!v->is_int64() || v->as_int64() < 1 || v->as_int64() > 100)
        return Bad(fmt::format("check.{} must be a whole number from 1 to 100", name));
      *target = static_cast<int>(v->as_int64());
    }
  }
  return spec;
}

std::string RandomSuffix() {
  static std::mt19937_64 rng(std::random_device{}());
  return fmt::format("{:08x}", static_cast<uint32_t>(rng()));
}

}  // namespace

InstancesApi::InstancesApi(const registry::Registry& view, registry::RegistryStore& registry,
                           registry::HealthChecker& checker, store::Store& store)
    : view_(view), registry_(registry), checker_(checker), store_(store) {}

void InstancesApi::Handle(const http::Request& request, std::string_view rest,
                          const http::Respond& respond) {
  std::vector<std::string> seg = Segments(rest);
  if (seg.empty()) {
    if (request.method != "POST") return respond(MethodNotAllowed(request, "POST"));
    return Register(request, respond);
  }
  if (seg.size() == 2 && seg[1] == "ttl") {
    if (request.method != "PUT") return respond(MethodNotAllowed(request, "PUT"));
    return Heartbeat(request, seg[0], respond);
  }
  if (seg.size() == 1) {
    if (request.method != "DELETE") return respond(MethodNotAllowed(request, "DELETE"));
    return Deregister(seg[0], respond);
  }
  respond(http::JsonError(404, "not_found", fmt::format("no such endpoint: {}", request.Path())));
}

void InstancesApi::Register(const http::Request& request, const http::Respond& respond) {
  auto parsed = ParseObject(
      request.body, {"id", "service", "address", "tags", "check", "deregister_after", "weight"});
  if (auto* error = std::get_if<http::Response>(&parsed)) return respond(std::move(*error));
  const json::object& body = std::get<json::object>(parsed);
  registry::Instance instance;
  instance.source = "api";
  auto service = StringField(body, "service");
  if (!service || !ValidName(*service))
    return respond(Bad("\"service\" must be a name without '/'"));
  instance.service = *service;
  auto address = StringField(body, "address");
  if (!address) return respond(Bad("\"address\" must be host:port"));
  auto host_port = ParseHostPort(*address);
  if (!host_port.ok() || host_port->port == 0) {
    return respond(Bad(fmt::format("address \"{}\": expected host:port", *address)));
  }
  if (!net::ToSocketAddress(*host_port).ok()) {
    return respond(
        Bad(fmt::format("address \"{}\": the host must be an IP address (or "
                        "localhost)",
                        *address)));
  }
  instance.address = *host_port;
  if (const json::value* weight = body.if_contains("weight")) {
    if (!weight->is_int64() || weight->as_int64() < 1 || weight->as_int64() > 1000) {
      return respond(Bad("\"weight\" must be a whole number from 1 to 1000"));
    }
    instance.weight = static_cast<uint32_t>(weight->as_int64());
  }
  instance.id = StringField(body, "id").value_or(*service + "-" + RandomSuffix());
  if (!ValidName(instance.id)) return respond(Bad("\"id\" must be a name without '/'"));
  if (const json::value* tags = body.if_contains("tags")) {
    if (!tags->is_array()) return respond(Bad("\"tags\" must be an array of strings"));
    for (const auto& tag : tags->as_array()) {
      if (!tag.is_string()) return respond(Bad("\"tags\" must be an array of strings"));
      instance.tags.emplace_back(tag.as_string());
    }
  }
  auto check = ParseCheck(body.if_contains("check"));
  if (auto* error = std::get_if<http::Response>(&check)) return respond(std::move(*error));
  instance.check = std::get<config::HealthSpec>(check);
  bool ttl_check = instance.check.kind == Kind::kTtl;
  if (body.contains("deregister_after") && !ttl_check) {
    return respond(Bad("deregister_after needs a ttl check"));
  }
  auto deregister_after =
      DurationField(body, "deregister_after",
                    std::max<Duration>(std::chrono::minutes(1), 3 * instance.check.ttl));
  if (auto* error = std::get_if<std::string>(&deregister_after)) return respond(Bad(*error));
  if (const registry::Instance* existing = view_.Find(instance.id);
      existing && existing->source != "api") {
    return respond(ReplicaConflict(instance.id));
  }

  auto write = [this, instance, respond](store::LeaseId lease) mutable {
    std::string id = instance.id;
    HostPort address = instance.address;
    config::HealthSpec check = instance.check;
    registry_.Register(std::move(instance), lease,
                       [this, id, address, check, lease, respond](const absl::Status& status) {
                         if (!status.ok()) {
                           if (lease) store_.RevokeLease(lease, [](const auto&) {});
                           return respond(ErrorFor(status));
                         }
                         checker_.Watch(id, address, check);
                         respond(Json(json::object{{"id", id}}));
                       });
  };
  if (!ttl_check) return write(0);
  store_.GrantLease(std::get<Duration>(deregister_after),
                    [write, respond](absl::StatusOr<store::LeaseGrant> lease) mutable {
                      if (!lease.ok()) return respond(ErrorFor(lease.status()));
                      write(lease->id);
                    });
}

void InstancesApi::Heartbeat(const http::Request& request, const std::string& id,
                             const http::Respond& respond) {
  bool passed = true;
  std::string output;
  if (!request.body.empty()) {
    auto parsed = ParseObject(request.body, {"status", "output"});
    if (auto* error = std::get_if<http::Response>(&parsed)) return respond(std::move(*error));
    const json::object& body = std::get<json::object>(parsed);
    std::string status = StringField(body, "status").value_or("pass");
    if (status != "pass" && status != "fail")
      return respond(Bad("\"status\" must be pass or fail"));
    passed = status == "pass";
    output = StringField(body, "output").value_or("");
  }
  auto owned = registry_.owned().find(id);
  if (owned == registry_.owned().end()) {
    return respond(http::JsonError(404, "not_found", fmt::format("no instance {}", id)));
  }
  if (auto status = checker_.Heartbeat(id, passed, output); !status.ok()) {
    return respond(ErrorFor(status));
  }
  // Once the health it reports is recorded: a read right after the answer sees it.
  auto answer = [this, id, passed, respond] {
    registry_.AfterWrites(id, [id, passed, respond] {
      respond(Json(json::object{{"id", id}, {"health", passed ? "healthy" : "unhealthy"}}));
    });
  };
  store::LeaseId lease = owned->second.lease;
  if (owned->second.instance.source != "api" || lease == 0) return answer();
  store_.KeepAlive(lease, [answer, respond](const absl::StatusOr<store::LeaseGrant>& r) {
    if (!r.ok()) return respond(ErrorFor(r.status()));
    answer();
  });
}

void InstancesApi::Deregister(const std::string& id, const http::Respond& respond) {
  auto owned = registry_.owned().find(id);
  if (owned == registry_.owned().end()) {
    return respond(http::JsonError(404, "not_found", fmt::format("no instance {}", id)));
  }
  if (owned->second.instance.source != "api") {
    return respond(ReplicaConflict(id));
  }
  store::LeaseId lease = owned->second.lease;
  registry_.Deregister(id, [this, id, lease, respond](const absl::Status& status) {
    // Failed or not, it has left the registry here; a key left in the store (disk full) comes
    // back, checked again, when the agent next starts.
    checker_.Unwatch(id);
    if (!status.ok()) return respond(ErrorFor(status));
    if (lease) store_.RevokeLease(lease, [](const absl::StatusOr<store::Revision>&) {});
    respond(Json(json::object{{"id", id}}));
  });
}

}  // namespace gantry::api
