// The agent's store: the embedded one in the state folder, or etcd (--store etcd://...) with
// the app's keys under /gantry/<app>/ and its history compacted by the agent. On the loop.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "store/compactor.h"
#include "store/embedded_store.h"
#include "store/store_url.h"

namespace gantry::agent {

struct StoreBackend {
  std::unique_ptr<store::Store> store;
  store::EmbeddedStore* embedded = nullptr;     // `store`, when embedded: for its metrics
  std::unique_ptr<store::Compactor> compactor;  // on etcd, which keeps every revision itself
};

absl::StatusOr<StoreBackend> OpenStoreBackend(boost::asio::io_context& io,
                                              const store::StoreUrl& url,
                                              const std::filesystem::path& state_dir,
                                              const std::string& app_name);

}  // namespace gantry::agent
