// Durations as written in app files and flags: "250ms", "2s", "1m", "1h", "1m30s".
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace gantry {

using Duration = std::chrono::milliseconds;

// The longest duration accepted anywhere: timers take nanoseconds, and nothing needs more.
inline constexpr Duration kMaxDuration{std::chrono::hours(24 * 366)};

// Parses one or more <number><unit> pairs (units ms, s, m, h; decimals allowed, e.g. "1.5s").
// Rejects empty text, a missing unit, negative values and values over kMaxDuration.
absl::StatusOr<Duration> ParseDuration(std::string_view text);

// The shortest exact spelling: 250ms, 2s, 1m30s, 2h.
std::string FormatDuration(Duration d);

}  // namespace gantry
