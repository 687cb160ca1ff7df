// Where topics live, as `--broker` names it: "" for the embedded broker in the state folder,
// or "nats://host:port,host:port,...[?replicas=N]" for NATS JetStream (any of the cluster's
// servers; N replicas per stream, 1 by default, at most 5).
#pragma once

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/address.h"

namespace gantry::broker {

struct BrokerUrl {
  enum class Kind { kEmbedded, kJetStream };
  Kind kind = Kind::kEmbedded;
  std::vector<HostPort> servers;  // kJetStream: at least one
  int replicas = 1;
};

// InvalidArgument naming what is wrong.
absl::StatusOr<BrokerUrl> ParseBrokerUrl(std::string_view text);

}  // namespace gantry::broker
