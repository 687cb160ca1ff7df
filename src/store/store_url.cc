#include "store/store_url.h"

#include <fmt/format.h>

#include "absl/strings/match.h"

namespace gantry::store {

absl::StatusOr<StoreUrl> ParseStoreUrl(std::string_view text) {
  StoreUrl url;
  if (text.empty()) return url;
  constexpr std::string_view kEtcd = "etcd://";
  if (!text.starts_with(kEtcd)) {
    return absl::InvalidArgumentError(fmt::format(
        "--store {}: expected etcd://host:port[,host:port...] (or nothing, for the embedded "
        "store)",
        text));
  }
  url.kind = StoreUrl::Kind::kEtcd;
  auto endpoints = ParseEndpointList(text.substr(kEtcd.size()));
  if (!endpoints.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("--store {}: {}{}", text, std::string(endpoints.status().message()),
                    absl::StrContains(endpoints.status().message(), "port is needed")
                        ? " (etcd's is usually 2379)"
                        : ""));
  }
  url.endpoints = *std::move(endpoints);
  return url;
}

}  // namespace gantry::store
