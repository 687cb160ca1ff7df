#include "store/types.h"

#include <fmt/format.h>

#include "core/duration.h"

namespace gantry::store {

absl::Status CheckKeyValue(const std::string& key, const std::string& value) {
  if (key.empty()) return absl::InvalidArgumentError("empty key");
  if (key.size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError(
        fmt::format("key of {} bytes: at most {}", key.size(), kMaxKeyBytes));
  }
  if (value.size() > kMaxValueBytes) {
    return absl::InvalidArgumentError(
        fmt::format("value of {} bytes: at most {}", value.size(), kMaxValueBytes));
  }
  return absl::OkStatus();
}

absl::Status CheckTtl(std::chrono::milliseconds ttl) {
  if (ttl < kMinLeaseTtl || ttl > kMaxLeaseTtl) {
    return absl::InvalidArgumentError(fmt::format("lease TTL {}: must be from {} to {}",
                                                  FormatDuration(ttl), FormatDuration(kMinLeaseTtl),
                                                  FormatDuration(kMaxLeaseTtl)));
  }
  return absl::OkStatus();
}

}  // namespace gantry::store
