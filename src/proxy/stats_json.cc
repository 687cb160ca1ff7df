#include "proxy/stats_json.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "http/message.h"

namespace gantry::proxy {
namespace {

void AppendTotals(const TrafficTotals& t, std::string& out) {
  uint64_t count = 0;
  for (uint64_t n : t.latency) count += n;
  double mean_ms =
      count ? static_cast<double>(t.latency_sum_us) / 1000.0 / static_cast<double>(count) : 0;
  fmt::format_to(std::back_inserter(out),
                 R"("requests":{},"responses":{{"1xx":{},"2xx":{},"3xx":{},"4xx":{},"5xx":{},)"
                 R"("none":{}}},"retries":{},"timeouts":{},"overflows":{},"rate_limited":{},)"
                 R"("upstream_failures":{},"latency_ms":{{"mean":{:.3f},"p50":{:.3f},)"
                 R"("p99":{:.3f}}})",
                 t.requests, t.by_class[1], t.by_class[2], t.by_class[3], t.by_class[4],
                 t.by_class[5], t.by_class[0], t.retries, t.timeouts, t.overflows, t.rate_limited,
                 t.upstream_failures, mean_ms, static_cast<double>(t.QuantileUs(0.5)) / 1000.0,
                 static_cast<double>(t.QuantileUs(0.99)) / 1000.0);
  // The buckets themselves (bounds: "latency_bounds_us" at the top), for quantiles over an
  // interval: `gantry top` takes the difference of two reads.
  out.append(R"(,"latency_buckets":[)");
  for (size_t i = 0; i < kLatencyBuckets; ++i) {
    if (i > 0) out.push_back(',');
    fmt::format_to(std::back_inserter(out), "{}", t.latency[i]);
  }
  out.push_back(']');
}

}  // namespace

std::string StatsJson(const Snapshot& snapshot, const std::vector<uint64_t>& workers_acknowledged) {
  std::string out =
      fmt::format(R"({{"version":{},"workers_acknowledged":[{}],"latency_bounds_us":[)",
                  snapshot.version, fmt::join(workers_acknowledged, ","));
  for (size_t i = 0; i < kLatencyBoundsUs.size(); ++i) {
    if (i > 0) out.push_back(',');
    fmt::format_to(std::back_inserter(out), "{}", kLatencyBoundsUs[i]);
  }
  out.append(R"(],"services":{)");
  bool first = true;
  for (const Cluster& cluster : snapshot.clusters) {
    if (!first) out.push_back(',');
    first = false;
    fmt::format_to(std::back_inserter(out), R"("{}":{{"endpoints":{},"panic":{},"instances":[)",
                   http::JsonEscape(cluster.service), cluster.endpoints.size(), cluster.panic);
    for (size_t i = 0; i < cluster.endpoints.size(); ++i) {
      if (i > 0) out.push_back(',');
      fmt::format_to(std::back_inserter(out), R"("{}")",
                     http::JsonEscape(cluster.endpoints[i].instance_id));
    }
    out.append("],");
    const CircuitBreaker& breaker = cluster.runtime->breaker;
    fmt::format_to(
        std::back_inserter(out),
        R"("in_flight":{{"requests":{},"connections":{},"pending":{},"retries":{}}},)",
        breaker.used(CircuitBreaker::kRequests), breaker.used(CircuitBreaker::kConnections),
        breaker.used(CircuitBreaker::kPending), cluster.runtime->retry_budget.active_retries());
    AppendTotals(cluster.runtime->stats.Merge(), out);
    out.push_back('}');
  }
  out.append(R"(},"routes":[)");
  first = true;
  for (const Route& route : snapshot.routes) {
    if (!first) out.push_back(',');
    first = false;
    fmt::format_to(std::back_inserter(out), R"({{"host":"{}","path":"{}","service":"{}",)",
                   http::JsonEscape(route.host), http::JsonEscape(route.prefix),
                   http::JsonEscape(snapshot.clusters[route.cluster].service));
    AppendTotals(route.runtime->stats.Merge(), out);
    out.push_back('}');
  }
  out.append("]}\n");
  return out;
}

}  // namespace gantry::proxy
