// A message as the broker keeps it, and its encoding in a topic's log.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace gantry::broker {

struct Message {
  uint64_t offset = 0;  // its place in the topic, from 0
  int64_t time_ms = 0;  // wall clock when it was accepted
  std::string id;       // the publisher's (X-Gantry-Message-Id), or one made up
  // Whether `id` came from the publisher: only those can repeat, so only those are kept for
  // dedup (a made-up one per message would cost memory at every publish for nothing).
  bool id_from_publisher = true;
  std::string key;                                           // ordering key; "" for none
  std::vector<std::pair<std::string, std::string>> headers;  // trace context and the like
  std::string payload;

  friend bool operator==(const Message&, const Message&) = default;
};

std::string EncodeMessage(const Message& message);
absl::StatusOr<Message> DecodeMessage(std::string_view record);

}  // namespace gantry::broker
