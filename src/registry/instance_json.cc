#include "registry/instance_json.h"

#include <limits>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "core/status.h"

namespace gantry::registry {
namespace json = boost::json;
using Kind = config::HealthSpec::Kind;

const char* CheckKindName(Kind kind) {
  switch (kind) {
    case Kind::kHttp:
      return "http";
    case Kind::kTcp:
      return "tcp";
    case Kind::kGrpc:
      return "grpc";
    case Kind::kTtl:
      return "ttl";
    case Kind::kNone:
      break;
  }
  return "none";
}

std::string InstanceKey(const Instance& instance) {
  return fmt::format("{}{}/{}", kRegistryPrefix, instance.service, instance.id);
}

std::string InstanceToJson(const Instance& instance) {
  json::array tags;
  for (const auto& tag : instance.tags) tags.emplace_back(tag);
  const config::HealthSpec& c = instance.check;
  json::object check{{"kind", CheckKindName(c.kind)},
                     {"interval", FormatDuration(c.interval)},
                     {"timeout", FormatDuration(c.timeout)},
                     {"healthy_after", c.healthy_after},
                     {"unhealthy_after", c.unhealthy_after}};
  if (c.kind == Kind::kHttp) check["http"] = c.http_path;
  if (c.kind == Kind::kTtl) check["ttl"] = FormatDuration(c.ttl);
  if (c.kind == Kind::kGrpc) check["grpc"] = c.grpc_service;
  auto changed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        instance.health_changed_at.time_since_epoch())
                        .count();
  return json::serialize(json::object{{"id", instance.id},
                                      {"service", instance.service},
                                      {"address", instance.address.ToString()},
                                      {"tags", std::move(tags)},
                                      {"health", HealthName(instance.health)},
                                      {"ever_healthy", instance.ever_healthy},
                                      {"output", instance.check_output},
                                      {"changed_ms", changed_ms},
                                      {"source", instance.source},
                                      {"weight", instance.weight},
                                      {"check", std::move(check)}});
}

absl::StatusOr<Instance> InstanceFromJson(std::string_view text) {
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec || !parsed.is_object()) return absl::DataLossError("instance record is not a JSON object");
  try {
    const json::object& o = parsed.as_object();
    Instance instance;
    instance.id = json::value_to<std::string>(o.at("id"));
    instance.service = json::value_to<std::string>(o.at("service"));
    GANTRY_ASSIGN_OR_RETURN(instance.address,
                            ParseHostPort(json::value_to<std::string>(o.at("address"))));
    for (const auto& tag : o.at("tags").as_array())
      instance.tags.push_back(json::value_to<std::string>(tag));
    std::string health = json::value_to<std::string>(o.at("health"));
    instance.health = health == "healthy"     ? Health::kHealthy
                      : health == "unhealthy" ? Health::kUnhealthy
                                              : Health::kUnknown;
    const json::value* ever = o.if_contains("ever_healthy");  // older records: by health
    instance.ever_healthy = ever ? ever->as_bool() : instance.health == Health::kHealthy;
    instance.check_output = json::value_to<std::string>(o.at("output"));
    int64_t changed_ms = o.at("changed_ms").to_number<int64_t>();
    // As a time point it counts nanoseconds: past 2262 it would overflow.
    constexpr int64_t kLatestMs = std::numeric_limits<int64_t>::max() / 1'000'000;
    if (changed_ms < 0 || changed_ms > kLatestMs) {
      return absl::DataLossError("instance record: changed_ms out of range");
    }
    instance.health_changed_at =
        std::chrono::system_clock::time_point(std::chrono::milliseconds(changed_ms));
    instance.source = json::value_to<std::string>(o.at("source"));
    if (const json::value* weight = o.if_contains("weight")) {  // records before weights: 1
      instance.weight = static_cast<uint32_t>(weight->to_number<int64_t>());
    }
    const json::object& c = o.at("check").as_object();
    std::string kind = json::value_to<std::string>(c.at("kind"));
    config::HealthSpec& spec = instance.check;
    spec.kind = Kind::kNone;
    for (Kind k : {Kind::kHttp, Kind::kTcp, Kind::kGrpc, Kind::kTtl}) {
      if (kind == CheckKindName(k)) spec.kind = k;
    }
    GANTRY_ASSIGN_OR_RETURN(spec.interval,
                            ParseDuration(json::value_to<std::string>(c.at("interval"))));
    GANTRY_ASSIGN_OR_RETURN(spec.timeout,
                            ParseDuration(json::value_to<std::string>(c.at("timeout"))));
    spec.healthy_after = static_cast<int>(c.at("healthy_after").to_number<int64_t>());
    spec.unhealthy_after = static_cast<int>(c.at("unhealthy_after").to_number<int64_t>());
    if (spec.kind == Kind::kHttp) spec.http_path = json::value_to<std::string>(c.at("http"));
    if (spec.kind == Kind::kGrpc) spec.grpc_service = json::value_to<std::string>(c.at("grpc"));
    if (spec.kind == Kind::kTtl) {
      GANTRY_ASSIGN_OR_RETURN(spec.ttl, ParseDuration(json::value_to<std::string>(c.at("ttl"))));
    }
    return instance;
  } catch (const std::exception& e) {  // a missing field or a wrong type
    return absl::DataLossError(fmt::format("instance record: {}", e.what()));
  }
}

}  // namespace gantry::registry
