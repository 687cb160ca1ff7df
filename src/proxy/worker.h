// One data-plane thread: its own event loop, its own SO_REUSEPORT listeners, its own client
// connections, upstream pools and load-balancer state. Nothing here is shared with other
// workers except the immutable snapshots (and the per-worker slots of endpoint runtimes).
// Everything except the constructor, Listen, Start and Stop runs on the worker's thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "http/h1_head.h"
#include "net/event_loop.h"
#include "net/tls.h"
#include "proxy/buffer_pool.h"
#include "proxy/lb/least_request.h"
#include "proxy/lb/round_robin.h"
#include "proxy/snapshot.h"
#include "telemetry/span_buffer.h"

namespace gantry::proxy {

enum class ListenerKind { kGateway, kMesh };

class ClientConn;
class H2Backend;
class Listener;
class UpstreamConn;

// A worker's hold on one snapshot, with the worker's own balancing state for its clusters.
// It lives while it is the worker's current view or an exchange begun under it goes on.
struct WorkerView {
  struct ClusterState {
    RoundRobin round_robin;
    LeastRequest least_request;
  };
  std::shared_ptr<const Snapshot> snapshot;
  std::vector<ClusterState> clusters;  // by index of snapshot->clusters
  uint32_t refs = 0;
};

struct WorkerLimits {
  size_t max_connections = 100000;  // client connections of this worker; past it, accepting waits
  size_t max_gateway_connections = 75000;  // of which from the gateway (the rest: the mesh's)
};

class AccessLog;

// How a worker tells the control plane things. Called on the worker's thread: the Proxy's
// implementations post to the control plane.
struct WorkerHooks {
  // An endpoint reached an outlier-detection threshold.
  std::function<void(const std::string& service, const std::string& instance)> outlier;
  // The worker now routes by snapshot `version` (and nothing older starts).
  std::function<void(int worker, uint64_t version)> acknowledged;
};

class Worker final : public net::TimerHandler {
 public:
  Worker(int index, const SnapshotStore& snapshots, WorkerLimits limits, WorkerHooks hooks);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Before Start(): bind a listener of this kind to an address reserved by the Proxy.
  absl::Status Listen(ListenerKind kind, const HostPort& address, bool reuse_port);
  void Start();
  void Stop();  // closes every connection, ends the loop, joins the thread
  // Any thread: load the newest snapshot now and acknowledge it (hooks.acknowledged).
  void NotifySnapshot();
  // Before Start(): write an access log line per request to this log.
  void SetAccessLog(std::unique_ptr<AccessLog> log);
  // Before Start(): the gateway's listeners speak TLS with this context.
  void SetGatewayTls(std::shared_ptr<const net::TlsServerContext> tls) {
    gateway_tls_ = std::move(tls);
  }

  // --- worker thread only ---
  int index() const { return index_; }
  net::EventLoop& loop() { return *loop_; }
  BufferPool& buffers() { return buffers_; }

  // The current view, reloaded first if a newer snapshot was published; the caller holds a
  // reference until ReleaseView.
  WorkerView* AcquireView();
  void ReleaseView(WorkerView* view);

  // An endpoint of `cluster` (which must have some) by the cluster's policy; `avoid` (a retry's
  // previous endpoint) is skipped when another one is there.
  const Endpoint& PickEndpoint(WorkerView& view, const Cluster& cluster, uint64_t key_hash,
                               const Endpoint* avoid);
  // A try's time to its response head, for peak_ewma.
  void RecordLatency(const Cluster& cluster, const Endpoint& endpoint, int64_t latency_us);
  void ReportOutlier(const std::string& service, const std::string& instance) {
    if (hooks_.outlier) hooks_.outlier(service, instance);
  }
  uint64_t NextRandom() { return random_.Next(); }
  AccessLog* access_log() { return access_log_.get(); }
  // Where proxied hops leave their spans; null while tracing is off.
  telemetry::SpanBuffer* spans() { return spans_.get(); }
  void EnableTracing(telemetry::TraceSampler sampler) {
    spans_ = std::make_unique<telemetry::SpanBuffer>();
    sampler_ = sampler;
  }
  // Whether a trace this worker starts is sampled (its traceparent's flag).
  const telemetry::TraceSampler& sampler() const { return sampler_; }
  // Wall-clock microseconds of a loop time (the loop's clock is monotonic).
  int64_t UnixMicros(int64_t loop_us) const { return loop_us + unix_offset_us_; }

  // Upstream connection pool, per endpoint.
  UpstreamConn* TakeIdle(const Endpoint& endpoint);
  void GiveBack(UpstreamConn* connection);    // pools it, or closes it if it cannot be reused
  void ForgetIdle(UpstreamConn* connection);  // takes a pooled connection out of its pool

  // Multiplexed HTTP/2 connections, per endpoint: the least busy one, or a new one when each
  // has this many streams (up to this many connections). Null when none can take the stream:
  // the service is at max_connections (`overloaded`) or no socket could be made.
  static constexpr size_t kH2StreamsBeforeNewConnection = 8;
  static constexpr size_t kMaxH2ConnectionsPerEndpoint = 8;
  H2Backend* H2BackendFor(const Endpoint& endpoint, const Cluster& cluster, bool& overloaded);
  void H2BackendClosed(H2Backend* connection);  // takes it off its endpoint's list

  // Client connections: accepted ones are counted until they close.
  void Accepted(int fd, ListenerKind kind, std::string peer_ip);
  void ClientClosed(ClientConn* connection);
  bool AtConnectionLimit(ListenerKind kind) const {
    return clients_ >= limits_.max_connections ||
           (kind == ListenerKind::kGateway && gateway_clients_ >= limits_.max_gateway_connections);
  }

  void NewRequestId(char (&out)[36]);  // a random UUID
  // Strings that keep their capacity from one request to the next (no allocation per request).
  std::string TakeString();
  void GiveString(std::string&& text);
  void OnTimer(net::Timer& timer) override;  // the pool sweep

  // Pooled connections idle longer than this are closed (replicas drop theirs too, and each
  // one holds a descriptor on both sides).
  static constexpr int64_t kUpstreamIdleMs = 60'000;
  static constexpr int64_t kSweepEveryMs = 5'000;

  // Scratch space reused by every request of this worker (heads are parsed one at a time).
  http::h1::RequestHead& request_head() { return request_head_; }
  http::h1::ResponseHead& response_head() { return response_head_; }

 private:
  void Reload(std::shared_ptr<const Snapshot> snapshot);
  size_t PickByPolicy(WorkerView& view, const Cluster& cluster, uint64_t key_hash);
  size_t PickWeightedRoundRobin(const Cluster& cluster);
  size_t PickSlowStart(const Cluster& cluster, int64_t now_unix_ms);
  size_t PickPeakEwma(const Cluster& cluster);
  void CloseIdle(EndpointWorkerState& state);
  void SweepIdle();
  void CloseEverything();

  int index_;
  const SnapshotStore& snapshots_;
  WorkerLimits limits_;
  WorkerHooks hooks_;
  std::unique_ptr<net::EventLoop> loop_;
  std::unique_ptr<AccessLog> access_log_;
  std::unique_ptr<telemetry::SpanBuffer> spans_;
  telemetry::TraceSampler sampler_{0};
  int64_t unix_offset_us_ = 0;
  std::shared_ptr<const net::TlsServerContext> gateway_tls_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  BufferPool buffers_;
  WorkerView* view_ = nullptr;
  uint64_t generation_ = 0;
  size_t clients_ = 0;
  size_t gateway_clients_ = 0;
  ClientConn* client_list_ = nullptr;  // every open client connection (intrusive)
  FastRandom random_;
  net::Timer sweep_timer_{this};
  std::vector<std::string> spare_strings_;
  http::h1::RequestHead request_head_;
  http::h1::ResponseHead response_head_;
  std::thread thread_;

  friend class ClientConn;
};

}  // namespace gantry::proxy
