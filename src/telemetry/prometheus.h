// Prometheus' text exposition format (version 0.0.4): what GET /metrics answers. Families are
// written whole, one after another: "# HELP", "# TYPE", then their samples; label values are
// escaped (\\, \", \n); histograms get cumulative _bucket{le=...} lines, _sum and _count.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "telemetry/counters.h"

namespace gantry::telemetry {

struct Label {
  std::string_view name;
  std::string_view value;
};
using Labels = std::span<const Label>;

inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

class PrometheusText {
 public:
  enum class Type { kCounter, kGauge, kHistogram };

  // Starts a family; a counter's name ends in _total. Its samples follow.
  void Family(std::string_view name, Type type, std::string_view help);
  // A counter or gauge sample of the current family.
  void Sample(Labels labels, double value);
  // A histogram sample of the current family; `scale` divides bounds and sum (microseconds to
  // seconds: 1e6).
  void Histogram(Labels labels, std::span<const uint64_t> bounds, const HistogramTotals& totals,
                 double scale = 1);

  const std::string& text() const { return out_; }
  std::string Take() { return std::move(out_); }

  // Whether `name` is a valid metric or label name ([a-zA-Z_:][a-zA-Z0-9_:]*; no ':' in labels).
  static bool ValidName(std::string_view name, bool label = false);

 private:
  void Line(std::string_view suffix, Labels labels, std::string_view extra_name,
            std::string_view extra_value, double value);

  std::string out_;
  std::string family_;
};

}  // namespace gantry::telemetry
