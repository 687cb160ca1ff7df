// What `gantry top` shows, computed from two reads of the agent a moment apart: per service,
// requests per second, the error rate, p50 and p99 over the interval (from the difference of
// the latency buckets), replicas running, CPU use and memory. Pure: the CLI feeds it parsed
// reads; tests feed it numbers.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gantry::cli {

// One read of one service.
struct ServiceSample {
  uint64_t requests = 0;
  uint64_t errors = 0;                    // 5xx and requests that got no response
  std::vector<uint64_t> latency_buckets;  // counts, not cumulative; bounds in TopSample
  int replicas = 0;                       // running
  double cpu_seconds = 0;                 // of its running replicas, summed
  uint64_t memory_bytes = 0;
};

struct TopSample {
  double at_seconds = 0;  // when it was read (a monotonic clock)
  std::vector<uint64_t> latency_bounds_us;
  std::map<std::string, ServiceSample> services;
};

struct TopRow {
  std::string service;
  double requests_per_second = 0;
  std::optional<double> error_rate;  // 0..1; none without requests in the interval
  std::optional<double> p50_ms, p99_ms;
  int replicas = 0;
  std::optional<double> cpu_percent;  // of one core; none when a replica restarted meanwhile
  uint64_t memory_bytes = 0;
};

// Rows by service name; a service missing from `before` counts from zero.
std::vector<TopRow> ComputeTop(const TopSample& before, const TopSample& after);

// The rows as a table, as printed each refresh.
std::string FormatTop(const std::vector<TopRow>& rows);

}  // namespace gantry::cli
