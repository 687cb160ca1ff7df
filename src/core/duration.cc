#include "core/duration.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>

#include <fmt/format.h>

namespace gantry {
namespace {
absl::Status BadDuration(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(
      fmt::format("bad duration \"{}\": {} (write e.g. 250ms, 2s, 1m, 1h)", text, why));
}
}  // namespace

absl::StatusOr<Duration> ParseDuration(std::string_view text) {
  if (text.empty()) return BadDuration(text, "empty");
  double total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    bool seen_dot = false;
    while (i < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[i])) || (text[i] == '.' && !seen_dot))) {
      seen_dot = seen_dot || text[i] == '.';
      ++i;
    }
    if (i == start) {
      return BadDuration(text, text[i] == '-' ? "must not be negative" : "expected a number");
    }
    std::string number(text.substr(start, i - start));
    if (number == ".") return BadDuration(text, "expected a number");
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    double scale = 0;
    if (unit == "ms")
      scale = 1;
    else if (unit == "s")
      scale = 1000;
    else if (unit == "m")
      scale = 60'000;
    else if (unit == "h")
      scale = 3'600'000;
    else if (unit.empty())
      return BadDuration(text, "missing unit");
    else
      return BadDuration(text, fmt::format("unknown unit \"{}\"", unit));
    // strtod, not stod: a number too large for a double is HUGE_VAL (longer than a year
    // below), where stod would throw out of the caller (a request's ?wait=) and abort.
    total_ms += std::strtod(number.c_str(), nullptr) * scale;
  }
  if (total_ms > static_cast<double>(kMaxDuration.count())) {
    return BadDuration(text, "longer than a year");
  }
  if (total_ms != std::floor(total_ms)) return BadDuration(text, "finer than a millisecond");
  return Duration(static_cast<int64_t>(total_ms));
}

std::string FormatDuration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  if (ms % 1000 != 0) return out + fmt::format("{}ms", ms);
  int64_t s = ms / 1000;
  int64_t h = s / 3600, m = (s % 3600) / 60, sec = s % 60;
  if (h) out += fmt::format("{}h", h);
  if (m) out += fmt::format("{}m", m);
  if (sec) out += fmt::format("{}s", sec);
  return out;
}

}  // namespace gantry
