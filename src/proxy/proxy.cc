#include "proxy/proxy.h"

#include <algorithm>

#include "core/status.h"
#include "net/listen.h"
#include "proxy/access_log.h"
#include "proxy/worker.h"

namespace gantry::proxy {

absl::StatusOr<std::unique_ptr<Proxy>> Proxy::Create(const ProxyOptions& options,
                                                     SnapshotStore& snapshots) {
  std::unique_ptr<Proxy> proxy(new Proxy());
  proxy->snapshots_ = &snapshots;
  GANTRY_ASSIGN_OR_RETURN(proxy->gateway_, net::ReserveListenAddress(options.gateway));
  GANTRY_ASSIGN_OR_RETURN(proxy->mesh_, net::ReserveListenAddress(options.mesh));
  int count = std::max(1, options.workers);
  bool reuse_port = count > 1;
  WorkerLimits limits;
  limits.max_connections =
      std::max<size_t>(1, options.max_connections / static_cast<size_t>(count));
  limits.max_gateway_connections =
      std::max<size_t>(1, options.max_gateway_connections / static_cast<size_t>(count));
  Proxy* self = proxy.get();
  auto post = options.post_to_control;
  WorkerHooks hooks;
  if (post) {
    hooks.acknowledged = [self, post](int worker, uint64_t version) {
      post([self, worker, version] { self->Acknowledged(worker, version); });
    };
    if (options.on_outlier) {
      auto on_outlier = options.on_outlier;
      hooks.outlier = [post, on_outlier](const std::string& service, const std::string& instance) {
        post([on_outlier, service, instance] { on_outlier(service, instance); });
      };
    }
  }
  proxy->acked_.assign(static_cast<size_t>(count), 0);
  for (int i = 0; i < count; ++i) {
    auto worker = std::make_unique<Worker>(i, snapshots, limits, hooks);
    GANTRY_RETURN_IF_ERROR(worker->Listen(ListenerKind::kGateway, proxy->gateway_, reuse_port));
    if (options.gateway_tls) worker->SetGatewayTls(options.gateway_tls);
    if (options.tracing) worker->EnableTracing(telemetry::TraceSampler(options.trace_sample_rate));
    GANTRY_RETURN_IF_ERROR(worker->Listen(ListenerKind::kMesh, proxy->mesh_, reuse_port));
    if (!options.access_log.empty()) {
      GANTRY_ASSIGN_OR_RETURN(auto log, AccessLog::Open(options.access_log));
      worker->SetAccessLog(std::move(log));
    }
    proxy->workers_.push_back(std::move(worker));
  }
  return proxy;
}

Proxy::~Proxy() { Stop(); }

void Proxy::Start() {
  started_ = true;
  for (auto& worker : workers_) worker->Start();
  for (auto& worker : workers_) worker->NotifySnapshot();
}

void Proxy::Stop() {
  for (auto& worker : workers_) worker->Stop();
  started_ = false;
}

uint64_t Proxy::Publish(std::shared_ptr<Snapshot> snapshot) {
  snapshots_->Publish(std::move(snapshot));
  if (started_) {
    for (auto& worker : workers_) worker->NotifySnapshot();
  }
  return snapshots_->version();
}

uint64_t Proxy::acknowledged_version() const {
  return *std::min_element(acked_.begin(), acked_.end());
}

void Proxy::WhenAcknowledged(uint64_t version, std::function<void()> done) {
  if (acknowledged_version() >= version) return done();
  waiting_.emplace(version, std::move(done));
}

void Proxy::Acknowledged(int worker, uint64_t version) {
  uint64_t& acked = acked_[static_cast<size_t>(worker)];
  acked = std::max(acked, version);
  uint64_t all = acknowledged_version();
  while (!waiting_.empty() && waiting_.begin()->first <= all) {
    auto done = std::move(waiting_.begin()->second);
    waiting_.erase(waiting_.begin());
    done();
  }
}

std::vector<telemetry::SpanBuffer*> Proxy::SpanBuffers() const {
  std::vector<telemetry::SpanBuffer*> rings;
  for (const auto& worker : workers_) {
    if (telemetry::SpanBuffer* spans = worker->spans()) rings.push_back(spans);
  }
  return rings;
}

}  // namespace gantry::proxy
