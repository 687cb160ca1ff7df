#include "config/policy_file.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace gantry::config {
namespace {

using Policy = LbSpec::Policy;

std::optional<double> ReadNumber(const Entry& e, Diagnostics& diag) {
  double value = 0;
  if (!e.value.IsScalar() || !YAML::convert<double>::decode(e.value, value) ||
      !std::isfinite(value)) {
    diag.Add(e.value_at, fmt::format("{}: expected a number", e.path));
    return std::nullopt;
  }
  return value;
}

void ReadPositiveDuration(MapReader& r, const char* key, Duration& out, Diagnostics& diag,
                          bool zero_allowed = false) {
  const Entry* e = r.Take(key);
  if (!e) return;
  if (auto d = ReadDuration(*e, diag)) {
    if (d->count() < 0 || (!zero_allowed && d->count() == 0)) {
      diag.Add(e->value_at, fmt::format("{}: must be more than 0", e->path));
    }
    out = *d;
  }
}

// "50%" or 50.
void ReadPercent(MapReader& r, const char* key, int& out, Diagnostics& diag) {
  const Entry* e = r.Take(key);
  if (!e) return;
  std::string text = e->value.IsScalar() ? e->value.Scalar() : "";
  if (text.ends_with('%')) text.pop_back();
  int value = -1;
  try {
    size_t used = 0;
    value = std::stoi(text, &used);
    if (used != text.size()) value = -1;
  } catch (const std::exception&) {
    value = -1;
  }
  if (value < 0 || value > 100) {
    diag.Add(e->value_at,
             fmt::format("{}: expected a percentage from 0 to 100, e.g. 50%", e->path));
    return;
  }
  out = value;
}

void ParseLb(MapReader& r, LbSpec& lb, Diagnostics& diag) {
  if (const Entry* e = r.Take("lb")) {
    if (auto name = ReadString(*e, diag)) {
      static const std::vector<std::pair<std::string, Policy>> kBuilt = {
          {"round_robin", Policy::kRoundRobin},     {"random", Policy::kRandom},
          {"least_request", Policy::kLeastRequest}, {"peak_ewma", Policy::kPeakEwma},
          {"ring_hash", Policy::kRingHash},         {"maglev", Policy::kMaglev}};
      auto built = std::find_if(kBuilt.begin(), kBuilt.end(),
                                [&](const auto& entry) { return entry.first == *name; });
      if (built != kBuilt.end()) {
        lb.policy = built->second;
      } else {
        std::vector<std::string> names;
        names.reserve(kBuilt.size());
        for (const auto& entry : kBuilt) names.push_back(entry.first);
        ReportBadChoice(*e, *name, names, diag);
      }
    }
  }
  if (const Entry* e = r.Take("hash_on")) {
    if (auto text = ReadString(*e, diag)) {
      if (*text == "path") {
        lb.hash_on = LbSpec::HashOn::kPath;
      } else if (*text == "client_ip") {
        lb.hash_on = LbSpec::HashOn::kClientIp;
      } else if (text->starts_with("header:") && text->size() > 7) {
        lb.hash_on = LbSpec::HashOn::kHeader;
        lb.hash_name = text->substr(7);
      } else if (text->starts_with("cookie:") && text->size() > 7) {
        lb.hash_on = LbSpec::HashOn::kCookie;
        lb.hash_name = text->substr(7);
      } else {
        diag.Add(e->value_at, fmt::format("{}: expected header:NAME, cookie:NAME, path or "
                                          "client_ip, not \"{}\"",
                                          e->path, *text));
      }
      if (lb.policy != Policy::kRingHash && lb.policy != Policy::kMaglev) {
        diag.Add(e->key_at, fmt::format("{}: only ring_hash and maglev hash requests", e->path));
      }
    }
  }
}

// gRPC status codes a call may be retried on, by the names Envoy's retry_on uses.
constexpr std::pair<std::string_view, int> kGrpcRetryCodes[] = {{"cancelled", 1},
                                                                {"deadline-exceeded", 4},
                                                                {"resource-exhausted", 8},
                                                                {"internal", 13},
                                                                {"unavailable", 14}};

void ParseRetryOn(const Entry& e, RetrySpec& retries, Diagnostics& diag) {
  auto items = ReadStringList(e, diag);
  if (!items) return;
  retries.on_connect_failure = retries.on_reset = retries.on_5xx = retries.on_gateway_error = false;
  retries.on_status.clear();
  retries.on_grpc_status.clear();
  for (const ListItem& item : *items) {
    const std::string& on = item.value;
    auto grpc = std::find_if(std::begin(kGrpcRetryCodes), std::end(kGrpcRetryCodes),
                             [&](const auto& code) { return code.first == on; });
    if (grpc != std::end(kGrpcRetryCodes)) {
      retries.on_grpc_status.push_back(grpc->second);
    } else if (on == "connect-failure") {
      retries.on_connect_failure = true;
    } else if (on == "reset") {
      retries.on_reset = true;
    } else if (on == "5xx") {
      retries.on_5xx = true;
    } else if (on == "gateway-error") {
      retries.on_gateway_error = true;
    } else if (on.size() == 3 && std::all_of(on.begin(), on.end(), ::isdigit) && on[0] >= '4' &&
               on[0] <= '5') {
      retries.on_status.push_back(std::stoi(on));
    } else {
      diag.Add(item.at, fmt::format("{}: \"{}\" is not one of connect-failure, reset, 5xx, "
                                    "gateway-error, a 4xx/5xx status such as \"503\", or a "
                                    "gRPC code: cancelled, deadline-exceeded, "
                                    "resource-exhausted, internal, unavailable",
                                    e.path, on));
    }
  }
}

void ParseRetries(const Entry& block, RetrySpec& retries, Diagnostics& diag) {
  MapReader r(block.value, block.value_at, block.path, diag);
  if (!r.is_map()) return;
  ReadBounded(r, "attempts", 0, 10, retries.attempts, diag);
  if (const Entry* e = r.Take("on")) ParseRetryOn(*e, retries, diag);
  ReadPositiveDuration(r, "per_try_timeout", retries.per_try_timeout, diag);
  if (const Entry* e = r.Take("budget")) {
    if (auto budget = ReadNumber(*e, diag)) {
      if (*budget < 0 || *budget > 1) {
        diag.Add(e->value_at, fmt::format("{}: a share of requests in flight, from 0 to 1, "
                                          "e.g. 0.2",
                                          e->path));
      }
      retries.budget = *budget;
    }
  }
  ReadBounded(r, "min_retries", 0, 1000000, retries.min_retries, diag);
  ReadPositiveDuration(r, "backoff", retries.backoff, diag);
  ReadPositiveDuration(r, "max_backoff", retries.max_backoff, diag);
  if (const Entry* e = r.Take("non_idempotent")) {
    if (auto on = ReadBool(*e, diag)) retries.non_idempotent = *on;
  }
  r.Finish();
  if (retries.max_backoff < retries.backoff) {
    diag.Add(block.key_at, fmt::format("{}: max_backoff must not be below backoff", block.path));
  }
}

void ParseBreaker(const Entry& block, BreakerSpec& breaker, Diagnostics& diag) {
  MapReader r(block.value, block.value_at, block.path, diag);
  if (!r.is_map()) return;
  ReadBounded(r, "max_connections", 1, 10000000, breaker.max_connections, diag);
  ReadBounded(r, "max_pending", 1, 10000000, breaker.max_pending, diag);
  ReadBounded(r, "max_requests", 1, 10000000, breaker.max_requests, diag);
  r.Finish();
}

void ParseOutlier(const Entry& block, OutlierSpec& outlier, Diagnostics& diag) {
  MapReader r(block.value, block.value_at, block.path, diag);
  if (!r.is_map()) return;
  outlier.enabled = true;
  ReadBounded(r, "consecutive_5xx", 0, 1000, outlier.consecutive_5xx, diag);
  ReadBounded(r, "consecutive_gateway_errors", 0, 1000, outlier.consecutive_gateway_errors, diag);
  ReadPositiveDuration(r, "base_ejection", outlier.base_ejection, diag);
  ReadPercent(r, "max_ejection_percent", outlier.max_ejection_percent, diag);
  r.Finish();
}

}  // namespace

void ParsePolicy(const Entry& block, PolicySpec& policy, Diagnostics& diag) {
  MapReader r(block.value, block.value_at, block.path, diag);
  if (!r.is_map()) return;
  ParseLb(r, policy.lb, diag);
  ReadPositiveDuration(r, "timeout", policy.timeout, diag);
  if (const Entry* e = r.Take("retries")) ParseRetries(*e, policy.retries, diag);
  if (const Entry* e = r.Take("circuit_breaker")) ParseBreaker(*e, policy.circuit_breaker, diag);
  if (const Entry* e = r.Take("outlier")) ParseOutlier(*e, policy.outlier, diag);
  ReadPercent(r, "panic_threshold", policy.panic_threshold, diag);
  ReadPositiveDuration(r, "slow_start", policy.slow_start, diag, true);
  r.Finish();
}

void ParseRateLimit(const Entry& block, RateLimitSpec& limit, Diagnostics& diag) {
  MapReader r(block.value, block.value_at, block.path, diag);
  if (!r.is_map()) return;
  if (const Entry* e = r.Take("rps")) {
    if (auto rps = ReadNumber(*e, diag)) {
      if (*rps <= 0) diag.Add(e->value_at, fmt::format("{}: must be more than 0", e->path));
      limit.rps = *rps;
    }
  } else {
    diag.Add(block.key_at, fmt::format("{}: missing rps", block.path));
  }
  limit.burst = std::max(1, static_cast<int>(std::ceil(limit.rps)));
  ReadBounded(r, "burst", 1, 100000000, limit.burst, diag);
  if (const Entry* e = r.Take("by")) {
    if (auto by = ReadString(*e, diag)) {
      if (*by == "client_ip") {
        limit.by = RateLimitSpec::By::kClientIp;
      } else if (by->starts_with("header:") && by->size() > 7) {
        limit.by = RateLimitSpec::By::kHeader;
        limit.header = by->substr(7);
      } else {
        diag.Add(e->value_at,
                 fmt::format("{}: expected client_ip or header:NAME, not \"{}\"", e->path, *by));
      }
    }
  }
  r.Finish();
}

}  // namespace gantry::config
