// Byte sizes as written in app files: "512", "64K", "256M", "2G" (binary units).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace gantry {

// Parses a whole number of bytes with an optional K, M or G suffix (powers of 1024).
absl::StatusOr<uint64_t> ParseSize(std::string_view text);

// The largest exact unit: 268435456 -> "256M", 1000 -> "1000".
std::string FormatSize(uint64_t bytes);

}  // namespace gantry
