#include "agent/store_backend.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/log.h"
#include "core/status.h"
#include "store/etcd/etcd_store.h"

namespace gantry::agent {
namespace {
// As kube-apiserver compacts etcd: a watch can be this far behind and still resume.
constexpr Duration kCompactEvery = std::chrono::minutes(5);
}  // namespace

absl::StatusOr<StoreBackend> OpenStoreBackend(boost::asio::io_context& io,
                                              const store::StoreUrl& url,
                                              const std::filesystem::path& state_dir,
                                              const std::string& app_name) {
  StoreBackend backend;
  if (url.kind == store::StoreUrl::Kind::kEmbedded) {
    store::EmbeddedStoreOptions embedded;
    embedded.dir = state_dir / "store";
    GANTRY_ASSIGN_OR_RETURN(auto opened, store::EmbeddedStore::Open(io, embedded));
    backend.embedded = opened.get();
    backend.store = std::move(opened);
    return backend;
  }
  store::EtcdStoreOptions etcd;
  for (const HostPort& endpoint : url.endpoints) etcd.endpoints.push_back(endpoint.ToString());
  etcd.key_prefix = fmt::format("/gantry/{}/", app_name);
  GANTRY_ASSIGN_OR_RETURN(backend.store, store::EtcdStore::Open(io, etcd));
  GANTRY_LOG(kInfo, "store: etcd at {}, keys under {}", fmt::join(etcd.endpoints, ","),
             etcd.key_prefix);
  backend.compactor = std::make_unique<store::Compactor>(io, *backend.store, kCompactEvery);
  return backend;
}

}  // namespace gantry::agent
