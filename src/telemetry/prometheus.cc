#include "telemetry/prometheus.h"

#include <cmath>

#include <fmt/format.h>

namespace gantry::telemetry {

namespace {

void AppendEscaped(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// Integers as integers; others in the shortest form that reads back the same.
void AppendValue(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else if (value == std::floor(value) && std::fabs(value) < 9.007199254740992e15) {
    fmt::format_to(std::back_inserter(out), "{}", static_cast<int64_t>(value));
  } else {
    fmt::format_to(std::back_inserter(out), "{}", value);
  }
}

}  // namespace

bool PrometheusText::ValidName(std::string_view name, bool label) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (!label && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

void PrometheusText::Family(std::string_view name, Type type, std::string_view help) {
  family_ = std::string(name);
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  for (char c : help) {  // HELP escapes only backslash and newline
    if (c == '\\') {
      out_ += "\\\\";
    } else if (c == '\n') {
      out_ += "\\n";
    } else {
      out_ += c;
    }
  }
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += type == Type::kCounter ? " counter\n"
          : type == Type::kGauge ? " gauge\n"
                                 : " histogram\n";
}

void PrometheusText::Line(std::string_view suffix, Labels labels, std::string_view extra_name,
                          std::string_view extra_value, double value) {
  out_ += family_;
  out_ += suffix;
  if (!labels.empty() || !extra_name.empty()) {
    out_ += '{';
    bool first = true;
    for (const Label& label : labels) {
      if (!first) out_ += ',';
      first = false;
      out_ += label.name;
      out_ += "=\"";
      AppendEscaped(out_, label.value);
      out_ += '"';
    }
    if (!extra_name.empty()) {
      if (!first) out_ += ',';
      out_ += extra_name;
      out_ += "=\"";
      out_ += extra_value;
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
  AppendValue(out_, value);
  out_ += '\n';
}

void PrometheusText::Sample(Labels labels, double value) { Line("", labels, "", "", value); }

void PrometheusText::Histogram(Labels labels, std::span<const uint64_t> bounds,
                               const HistogramTotals& totals, double scale) {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds.size(); ++i) {
    cumulative += i < totals.buckets.size() ? totals.buckets[i] : 0;
    std::string le;
    AppendValue(le, static_cast<double>(bounds[i]) / scale);
    Line("_bucket", labels, "le", le, static_cast<double>(cumulative));
  }
  uint64_t count = totals.Count();
  Line("_bucket", labels, "le", "+Inf", static_cast<double>(count));
  Line("_sum", labels, "", "", static_cast<double>(totals.sum) / scale);
  Line("_count", labels, "", "", static_cast<double>(count));
}

}  // namespace gantry::telemetry
