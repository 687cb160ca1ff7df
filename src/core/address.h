// host:port as written in flags and app files ("127.0.0.1:8080", "[::1]:0", "localhost:7700").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace gantry {

struct HostPort {
  std::string host;
  uint16_t port = 0;

  std::string ToString() const;  // brackets an IPv6 host
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

// Accepts host:port and [v6]:port; an "http://" prefix and a trailing "/" are tolerated so that
// GANTRY_API values can be passed as they are.
absl::StatusOr<HostPort> ParseHostPort(std::string_view text);
// "host:port,host:port,...": the engines' endpoints of --store and --broker. Each needs a
// port; no path. InvalidArgument naming the bad one.
absl::StatusOr<std::vector<HostPort>> ParseEndpointList(std::string_view text);

}  // namespace gantry
