#include "store/store_url.h"

#include <fmt/format.h>

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
  std::string_view rest = text.substr(kEtcd.size());
  while (true) {
    size_t comma = rest.find(',');
    std::string_view endpoint = rest.substr(0, comma);
    if (endpoint.empty()) {
      return absl::InvalidArgumentError(fmt::format("--store {}: an empty endpoint", text));
    }
    if (endpoint.find('/') != std::string_view::npos) {
      return absl::InvalidArgumentError(
          fmt::format("--store {}: {}: host:port only (no path)", text, endpoint));
    }
    auto parsed = ParseHostPort(endpoint);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("--store {}: {}", text, std::string(parsed.status().message())));
    }
    if (parsed->port == 0) {
      return absl::InvalidArgumentError(
          fmt::format("--store {}: {}: a port is needed (etcd's is usually 2379)", text, endpoint));
    }
    url.endpoints.push_back(*std::move(parsed));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return url;
}

}  // namespace gantry::store
