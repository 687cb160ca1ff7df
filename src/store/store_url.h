// Where the store lives, as `--store` names it: "" for the embedded store in the state folder,
// or "etcd://host:port,host:port,..." for an etcd cluster (any of its members' client URLs).
#pragma once

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/address.h"

namespace gantry::store {

struct StoreUrl {
  enum class Kind { kEmbedded, kEtcd };
  Kind kind = Kind::kEmbedded;
  std::vector<HostPort> endpoints;  // kEtcd: at least one, port given
};

// InvalidArgument naming what is wrong: an unknown scheme, no endpoint, a bad host:port.
absl::StatusOr<StoreUrl> ParseStoreUrl(std::string_view text);

}  // namespace gantry::store
