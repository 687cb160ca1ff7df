#include "broker/broker.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

namespace gantry::broker {

absl::Status Broker::CheckTopicName(std::string_view name) {
  static constexpr auto kAllowed = [] {  // a table: this runs for every publish
    std::array<bool, 256> allowed{};
    for (int c = 0; c < 256; ++c) {
      allowed[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '.' || c == '_' || c == '-';
    }
    return allowed;
  }();
  bool ok = !name.empty() && name.size() <= 200 && name != "." && name != ".." &&
            std::all_of(name.begin(), name.end(),
                        [](char c) { return kAllowed[static_cast<unsigned char>(c)]; });
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      fmt::format("a topic name is 1 to 200 letters, digits, '.', '_' or '-': \"{}\"", name));
}

absl::Status Broker::CheckPublish(std::string_view topic, const Outgoing& message,
                                  size_t max_message_bytes) {
  if (absl::Status status = CheckTopicName(topic); !status.ok()) return status;
  if (message.payload.size() > max_message_bytes) {
    return absl::InvalidArgumentError(fmt::format("the message is {} bytes; at most {} are taken",
                                                  message.payload.size(), max_message_bytes));
  }
  return absl::OkStatus();
}

}  // namespace gantry::broker
