#include "proxy/proxy.h"

#include "core/status.h"
#include "net/listen.h"
#include "proxy/worker.h"

namespace gantry::proxy {

absl::StatusOr<std::unique_ptr<Proxy>> Proxy::Create(const ProxyOptions& options,
                                                     const SnapshotStore& snapshots) {
  std::unique_ptr<Proxy> proxy(new Proxy());
  GANTRY_ASSIGN_OR_RETURN(proxy->gateway_, net::ReserveListenAddress(options.gateway));
  GANTRY_ASSIGN_OR_RETURN(proxy->mesh_, net::ReserveListenAddress(options.mesh));
  bool reuse_port = options.workers > 1;
  for (int i = 0; i < std::max(1, options.workers); ++i) {
    auto worker = std::make_unique<Worker>(i, snapshots, WorkerLimits{});
    GANTRY_RETURN_IF_ERROR(worker->Listen(ListenerKind::kGateway, proxy->gateway_, reuse_port));
    GANTRY_RETURN_IF_ERROR(worker->Listen(ListenerKind::kMesh, proxy->mesh_, reuse_port));
    proxy->workers_.push_back(std::move(worker));
  }
  return proxy;
}

Proxy::~Proxy() { Stop(); }

void Proxy::Start() {
  for (auto& worker : workers_) worker->Start();
}

void Proxy::Stop() {
  for (auto& worker : workers_) worker->Stop();
}

}  // namespace gantry::proxy
