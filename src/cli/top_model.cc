#include "cli/top_model.h"

#include <fmt/format.h>

#include "core/size.h"
#include "telemetry/counters.h"

namespace gantry::cli {

namespace {

// The bound below which `quantile` of the interval's requests finished (an upper estimate):
// the quantile of the buckets' growth; none without requests in the interval.
std::optional<double> QuantileMs(const std::vector<uint64_t>& before,
                                 const std::vector<uint64_t>& after,
                                 const std::vector<uint64_t>& bounds_us, double quantile) {
  std::vector<uint64_t> delta(after.size(), 0);
  uint64_t total = 0;
  for (size_t i = 0; i < after.size(); ++i) {
    uint64_t was = i < before.size() ? before[i] : 0;
    delta[i] = after[i] >= was ? after[i] - was : after[i];
    total += delta[i];
  }
  if (total == 0 || bounds_us.empty()) return std::nullopt;
  return static_cast<double>(telemetry::BucketQuantile(delta, bounds_us, quantile)) / 1000.0;
}

}  // namespace

std::vector<TopRow> ComputeTop(const TopSample& before, const TopSample& after) {
  std::vector<TopRow> rows;
  double seconds = after.at_seconds - before.at_seconds;
  for (const auto& [name, now] : after.services) {
    ServiceSample was;
    if (auto it = before.services.find(name); it != before.services.end()) was = it->second;
    TopRow row;
    row.service = name;
    // Counters only grow while the agent runs; a smaller one means it restarted: from zero.
    uint64_t requests = now.requests >= was.requests ? now.requests - was.requests : now.requests;
    uint64_t errors = now.errors >= was.errors ? now.errors - was.errors : now.errors;
    if (seconds > 0) row.requests_per_second = static_cast<double>(requests) / seconds;
    if (requests > 0) row.error_rate = static_cast<double>(errors) / static_cast<double>(requests);
    row.p50_ms = QuantileMs(was.latency_buckets, now.latency_buckets, after.latency_bounds_us, 0.5);
    row.p99_ms =
        QuantileMs(was.latency_buckets, now.latency_buckets, after.latency_bounds_us, 0.99);
    row.replicas = now.replicas;
    if (seconds > 0 && now.cpu_seconds >= was.cpu_seconds) {
      row.cpu_percent = (now.cpu_seconds - was.cpu_seconds) / seconds * 100.0;
    }
    row.memory_bytes = now.memory_bytes;
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string FormatTop(const std::vector<TopRow>& rows) {
  constexpr std::string_view kRow = "{:<20} {:>8} {:>9} {:>7} {:>9} {:>9} {:>7} {:>9}\n";
  std::string out =
      fmt::format(kRow, "SERVICE", "REPLICAS", "REQ/S", "ERR%", "P50", "P99", "CPU%", "MEMORY");
  auto ms = [](const std::optional<double>& v) {
    return v ? fmt::format("{:.1f}ms", *v) : std::string("-");
  };
  for (const TopRow& row : rows) {
    out += fmt::format(
        kRow, row.service, row.replicas, fmt::format("{:.1f}", row.requests_per_second),
        row.error_rate ? fmt::format("{:.1f}", *row.error_rate * 100) : std::string("-"),
        ms(row.p50_ms), ms(row.p99_ms),
        row.cpu_percent ? fmt::format("{:.1f}", *row.cpu_percent) : std::string("-"),
        FormatSize(row.memory_bytes / (1 << 20) << 20));
  }
  return out;
}

}  // namespace gantry::cli
