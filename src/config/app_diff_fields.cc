// The field-by-field part of DiffApps: what `apply --dry-run` shows under each change, as
// "name: old -> new" lines, with values written as in an app file.
#include "config/app_diff_fields.h"

#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace gantry::config {
namespace {

using Lines = std::vector<std::string>;

void Field(Lines& out, std::string_view name, const std::string& before, const std::string& now) {
  if (before != now) out.push_back(fmt::format("{}: {} -> {}", name, before, now));
}

std::string Quoted(std::string_view text) { return fmt::format("\"{}\"", text); }

std::string List(const std::vector<std::string>& items) {
  return fmt::format("[{}]", fmt::join(items, ", "));
}

std::string Text(Duration d) { return FormatDuration(d); }

std::string Text(const HealthSpec& h) {
  std::string kind;
  switch (h.kind) {
    case HealthSpec::Kind::kNone:
      return "none";
    case HealthSpec::Kind::kHttp:
      kind = "http " + h.http_path;
      break;
    case HealthSpec::Kind::kTcp:
      kind = "tcp";
      break;
    case HealthSpec::Kind::kGrpc:
      kind = h.grpc_service.empty() ? "grpc" : "grpc " + h.grpc_service;
      break;
    case HealthSpec::Kind::kTtl:
      return "ttl " + Text(h.ttl);
  }
  return fmt::format("{} every {}, timeout {}, healthy after {}, unhealthy after {}", kind,
                     Text(h.interval), Text(h.timeout), h.healthy_after, h.unhealthy_after);
}

std::string Text(const LbSpec& lb) {
  static constexpr const char* kNames[] = {"round_robin", "random",    "least_request",
                                           "peak_ewma",   "ring_hash", "maglev"};
  std::string out = kNames[static_cast<int>(lb.policy)];
  if (lb.policy == LbSpec::Policy::kRingHash || lb.policy == LbSpec::Policy::kMaglev) {
    static constexpr const char* kOn[] = {"client_ip", "header:", "cookie:", "path"};
    out += fmt::format(" on {}{}", kOn[static_cast<int>(lb.hash_on)], lb.hash_name);
  }
  return out;
}

std::string Text(const RetrySpec& r) {
  std::vector<std::string> on;
  if (r.on_connect_failure) on.emplace_back("connect-failure");
  if (r.on_reset) on.emplace_back("reset");
  if (r.on_5xx) on.emplace_back("5xx");
  if (r.on_gateway_error) on.emplace_back("gateway-error");
  for (int status : r.on_status) on.push_back(std::to_string(status));
  for (int code : r.on_grpc_status) on.push_back("grpc " + std::to_string(code));
  return fmt::format(
      "attempts {} on {}, per_try_timeout {}, budget {:g} (min {}), backoff {}..{}{}", r.attempts,
      List(on), Text(r.per_try_timeout), r.budget, r.min_retries, Text(r.backoff),
      Text(r.max_backoff), r.non_idempotent ? ", non_idempotent" : "");
}

std::string Text(const BreakerSpec& b) {
  return fmt::format("max_connections {}, max_pending {}, max_requests {}", b.max_connections,
                     b.max_pending, b.max_requests);
}

std::string Text(const OutlierSpec& o) {
  if (!o.enabled) return "off";
  return fmt::format(
      "consecutive_5xx {}, consecutive_gateway_errors {}, base_ejection {}, "
      "max_ejection_percent {}",
      o.consecutive_5xx, o.consecutive_gateway_errors, Text(o.base_ejection),
      o.max_ejection_percent);
}

std::string Text(const AutoscaleSpec& a) {
  if (!a.enabled) return "off";
  return fmt::format("min {}, max {}, target_rps {:g}, target_cpu {:g}", a.min, a.max, a.target_rps,
                     a.target_cpu);
}

std::string Text(const UpdateSpec& u) {
  return fmt::format("max_surge {}, max_unavailable {}, deadline {}", u.max_surge,
                     u.max_unavailable, Text(u.deadline));
}

std::string Text(const SubscribeSpec& s) {
  return fmt::format("{} -> {} (dead_letter {}, max_deliver {}{})", s.topic, s.path, s.dead_letter,
                     s.max_deliver, s.ordered ? ", ordered" : "");
}

std::string Text(const RouteSpec& r) {
  std::string out = fmt::format("{}{} -> {}", r.host, r.path, r.service);
  if (r.strip_prefix) out += ", strip_prefix";
  if (!r.methods.empty()) out += ", methods " + List(r.methods);
  if (r.rate_limit.rps > 0) {
    out += fmt::format(", rate_limit {:g}/s burst {}", r.rate_limit.rps, r.rate_limit.burst);
  }
  return out;
}

const char* Text(RestartPolicy policy) { return RestartPolicyName(policy); }

}  // namespace

std::vector<std::string> ChangedFields(const ServiceSpec& before, const ServiceSpec& now) {
  Lines out;
  std::vector<std::string> old_command, new_command;
  for (const auto& arg : before.command) old_command.push_back(Quoted(arg));
  for (const auto& arg : now.command) new_command.push_back(Quoted(arg));
  Field(out, "command", List(old_command), List(new_command));
  std::set<std::string> keys;
  for (const auto& [key, value] : before.env) keys.insert(key);
  for (const auto& [key, value] : now.env) keys.insert(key);
  for (const std::string& key : keys) {
    auto was = before.env.find(key);
    auto is = now.env.find(key);
    Field(out, "env." + key, was == before.env.end() ? "(none)" : Quoted(was->second),
          is == now.env.end() ? "(none)" : Quoted(is->second));
  }
  Field(out, "replicas", std::to_string(before.replicas), std::to_string(now.replicas));
  Field(out, "protocol", before.protocol == ServiceSpec::Protocol::kGrpc ? "grpc" : "http",
        now.protocol == ServiceSpec::Protocol::kGrpc ? "grpc" : "http");
  Field(out, "health", Text(before.health), Text(now.health));
  Field(out, "restart", Text(before.restart), Text(now.restart));
  Field(out, "depends_on", List(before.depends_on), List(now.depends_on));
  Field(out, "stop_grace", Text(before.stop_grace), Text(now.stop_grace));
  const PolicySpec& p = before.policy;
  const PolicySpec& q = now.policy;
  Field(out, "policy.lb", Text(p.lb), Text(q.lb));
  Field(out, "policy.timeout", Text(p.timeout), Text(q.timeout));
  Field(out, "policy.retries", Text(p.retries), Text(q.retries));
  Field(out, "policy.circuit_breaker", Text(p.circuit_breaker), Text(q.circuit_breaker));
  Field(out, "policy.outlier", Text(p.outlier), Text(q.outlier));
  Field(out, "policy.panic_threshold", fmt::format("{}%", p.panic_threshold),
        fmt::format("{}%", q.panic_threshold));
  Field(out, "policy.slow_start", Text(p.slow_start), Text(q.slow_start));
  Field(out, "update", Text(before.update), Text(now.update));
  Field(out, "autoscale", Text(before.autoscale), Text(now.autoscale));
  std::vector<std::string> old_subscribe, new_subscribe;
  for (const auto& s : before.subscribe) old_subscribe.push_back(Text(s));
  for (const auto& s : now.subscribe) new_subscribe.push_back(Text(s));
  Field(out, "subscribe", List(old_subscribe), List(new_subscribe));
  return out;
}

std::vector<std::string> ChangedRoutes(const std::vector<RouteSpec>& before,
                                       const std::vector<RouteSpec>& now) {
  Lines out;
  std::set<std::string> old_routes, new_routes;
  for (const auto& route : before) old_routes.insert(Text(route));
  for (const auto& route : now) new_routes.insert(Text(route));
  for (const auto& route : old_routes) {
    if (!new_routes.count(route)) out.push_back("- " + route);
  }
  for (const auto& route : new_routes) {
    if (!old_routes.count(route)) out.push_back("+ " + route);
  }
  return out;
}

}  // namespace gantry::config
