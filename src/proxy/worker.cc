#include "proxy/worker.h"

#include <time.h>

#include <random>

#include <unistd.h>

#include <cstring>

#include "core/status.h"
#include "net/socket.h"
#include "proxy/access_log.h"
#include "proxy/client_conn.h"
#include "proxy/h2_backend.h"
#include "proxy/listener.h"
#include "proxy/upstream_conn.h"

namespace gantry::proxy {

namespace {
// Enough for the requests one worker has in flight to a replica at once under heavy load (HTTP/2
// clients multiplex hundreds of them), so bursts do not churn connections; idle ones still go
// after kUpstreamIdleMs.
constexpr uint32_t kMaxIdlePerEndpoint = 1024;
}  // namespace

Worker::Worker(int index, const SnapshotStore& snapshots, WorkerLimits limits, WorkerHooks hooks)
    : index_(index),
      snapshots_(snapshots),
      limits_(limits),
      hooks_(std::move(hooks)),
      // Seeded afresh per run: request and trace ids must not repeat across restarts.
      random_((uint64_t{std::random_device{}()} << 32 | std::random_device{}()) +
              static_cast<uint64_t>(index)) {
  auto loop = net::EventLoop::Create();
  GANTRY_CHECK(loop.ok());
  loop_ = std::move(*loop);
  timespec wall{}, mono{};
  ::clock_gettime(CLOCK_REALTIME, &wall);
  ::clock_gettime(CLOCK_MONOTONIC, &mono);
  unix_offset_us_ = (int64_t{wall.tv_sec} - mono.tv_sec) * 1'000'000 +
                    (int64_t{wall.tv_nsec} - mono.tv_nsec) / 1000;
}

Worker::~Worker() {
  Stop();
  listeners_.clear();
  loop_.reset();  // deletes what is still pending deletion
  if (view_) ReleaseView(view_);
}

absl::Status Worker::Listen(ListenerKind kind, const HostPort& address, bool reuse_port) {
  auto fd = net::ListenSocket(address, reuse_port, 4096);
  if (!fd.ok()) return fd.status();
  auto listener = std::make_unique<Listener>(*this, *fd, kind);
  GANTRY_RETURN_IF_ERROR(listener->Register());
  listeners_.push_back(std::move(listener));
  return absl::OkStatus();
}

void Worker::Start() {
  loop_->Post([this] { loop_->timers().Arm(sweep_timer_, loop_->now_ms() + kSweepEveryMs); });
  thread_ = std::thread([this] { loop_->Run(); });
}

void Worker::OnTimer(net::Timer&) {
  SweepIdle();
  loop_->timers().Arm(sweep_timer_, loop_->now_ms() + kSweepEveryMs);
}

void Worker::SweepIdle() {
  if (!view_) return;
  int64_t cutoff = loop_->now_ms() - kUpstreamIdleMs;
  for (const Cluster& cluster : view_->snapshot->clusters) {
    for (const Endpoint& endpoint : cluster.endpoints) {
      UpstreamConn* connection = endpoint.runtime->per_worker[index_].idle;
      while (connection) {
        UpstreamConn* next = connection->idle_next;
        if (connection->idle_since_ms < cutoff) {
          ForgetIdle(connection);
          connection->Close();
        }
        connection = next;
      }
      for (H2Backend* h2 = endpoint.runtime->per_worker[index_].h2; h2;) {
        H2Backend* next = h2->pool_next;
        if (h2->calls() == 0 && h2->idle_since_ms < cutoff) h2->Close();
        h2 = next;
      }
    }
  }
}

void Worker::SetAccessLog(std::unique_ptr<AccessLog> log) {
  access_log_ = std::move(log);
  access_log_->Attach(*loop_);
}

void Worker::NotifySnapshot() {
  loop_->Post([this] {
    uint64_t version = snapshots_.version();
    if (!view_ || view_->snapshot->version != version) Reload(snapshots_.Load());
    if (hooks_.acknowledged) hooks_.acknowledged(index_, view_->snapshot->version);
  });
}

void Worker::Stop() {
  if (!thread_.joinable()) return;
  loop_->Post([this] {
    CloseEverything();
    loop_->Stop();
  });
  thread_.join();
}

void Worker::CloseEverything() {
  loop_->timers().Cancel(sweep_timer_);
  if (access_log_) access_log_->Flush();
  for (auto& listener : listeners_) listener->Close();
  while (client_list_) client_list_->Close();
  if (view_) {
    for (const Cluster& cluster : view_->snapshot->clusters) {
      for (const Endpoint& endpoint : cluster.endpoints) {
        EndpointWorkerState& state = endpoint.runtime->per_worker[index_];
        CloseIdle(state);
        while (state.h2) state.h2->Close();
      }
    }
  }
}

WorkerView* Worker::AcquireView() {
  if (!view_ || view_->snapshot->version != snapshots_.version()) Reload(snapshots_.Load());
  ++view_->refs;
  return view_;
}

void Worker::ReleaseView(WorkerView* view) {
  if (--view->refs == 0) delete view;
}

void Worker::Reload(std::shared_ptr<const Snapshot> snapshot) {
  ++generation_;
  auto* next = new WorkerView;
  next->snapshot = std::move(snapshot);
  next->refs = 1;  // the worker's own hold, while it is current
  auto seed = static_cast<uint64_t>(index_);
  for (size_t i = 0; i < next->snapshot->clusters.size(); ++i) {
    next->clusters.push_back({RoundRobin(seed), LeastRequest(seed * 7919 + i)});
    for (const Endpoint& endpoint : next->snapshot->clusters[i].endpoints) {
      EndpointWorkerState& state = endpoint.runtime->per_worker[index_];
      state.generation = generation_;
      state.retired = false;
    }
  }
  if (view_) {
    // Endpoints the new snapshot dropped: their pooled connections go now (a restarted
    // replica listens elsewhere; CLOSE_WAIT sockets would pile up), busy ones when done.
    for (const Cluster& cluster : view_->snapshot->clusters) {
      for (const Endpoint& endpoint : cluster.endpoints) {
        EndpointWorkerState& state = endpoint.runtime->per_worker[index_];
        if (state.generation == generation_) continue;
        state.retired = true;
        CloseIdle(state);
        for (H2Backend* h2 = state.h2; h2;) {
          H2Backend* next = h2->pool_next;
          h2->Drain();  // closes at once when no call is on it, else after the last
          h2 = next;
        }
      }
    }
    ReleaseView(view_);
  }
  view_ = next;
}

UpstreamConn* Worker::TakeIdle(const Endpoint& endpoint) {
  EndpointWorkerState& state = endpoint.runtime->per_worker[index_];
  UpstreamConn* connection = state.idle;
  if (!connection) return nullptr;
  ForgetIdle(connection);
  return connection;
}

void Worker::GiveBack(UpstreamConn* connection) {
  EndpointWorkerState& state = connection->runtime()->per_worker[index_];
  if (state.retired || state.idle_count >= kMaxIdlePerEndpoint) return connection->Close();
  connection->idle_since_ms = loop_->now_ms();
  connection->idle_prev = nullptr;
  connection->idle_next = state.idle;
  if (state.idle) state.idle->idle_prev = connection;
  state.idle = connection;
  ++state.idle_count;
}

void Worker::ForgetIdle(UpstreamConn* connection) {
  EndpointWorkerState& state = connection->runtime()->per_worker[index_];
  if (connection->idle_prev) {
    connection->idle_prev->idle_next = connection->idle_next;
  } else {
    state.idle = connection->idle_next;
  }
  if (connection->idle_next) connection->idle_next->idle_prev = connection->idle_prev;
  connection->idle_prev = connection->idle_next = nullptr;
  --state.idle_count;
}

H2Backend* Worker::H2BackendFor(const Endpoint& endpoint, const Cluster& cluster,
                                bool& overloaded) {
  // The least busy connection, unless all are busy enough that another one would serve the
  // replica better: servers read each connection on one thread, so a single connection caps
  // a multi-threaded replica (grpc++ reads each connection's frames in turn).
  EndpointWorkerState& state = endpoint.runtime->per_worker[index_];
  H2Backend* best = nullptr;
  size_t connections = 0;
  for (H2Backend* h2 = state.h2; h2; h2 = h2->pool_next) {
    ++connections;
    if (h2->CanOpen() && (!best || h2->calls() < best->calls())) best = h2;
  }
  if (best && (best->calls() < kH2StreamsBeforeNewConnection ||
               connections >= kMaxH2ConnectionsPerEndpoint)) {
    return best;
  }
  overloaded = !cluster.runtime->breaker.TryAcquire(CircuitBreaker::kConnections);
  if (overloaded) return best;  // at max_connections: share one, if any
  H2Backend* h2 = H2Backend::Dial(*this, endpoint, cluster.runtime);
  if (!h2) {
    cluster.runtime->breaker.Release(CircuitBreaker::kConnections);
    return best;
  }
  h2->idle_since_ms = loop_->now_ms();
  h2->pool_next = state.h2;
  if (state.h2) state.h2->pool_prev = h2;
  state.h2 = h2;
  return h2;
}

void Worker::H2BackendClosed(H2Backend* connection) {
  EndpointWorkerState& state = connection->runtime()->per_worker[index_];
  if (connection->pool_prev) {
    connection->pool_prev->pool_next = connection->pool_next;
  } else if (state.h2 == connection) {
    state.h2 = connection->pool_next;
  }
  if (connection->pool_next) connection->pool_next->pool_prev = connection->pool_prev;
  connection->pool_prev = connection->pool_next = nullptr;
}

void Worker::CloseIdle(EndpointWorkerState& state) {
  while (state.idle) {
    UpstreamConn* connection = state.idle;
    ForgetIdle(connection);
    connection->Close();
  }
}

void Worker::Accepted(int fd, ListenerKind kind, std::string peer_ip) {
  std::unique_ptr<net::TlsConnection> tls;
  if (kind == ListenerKind::kGateway && gateway_tls_) {
    tls = gateway_tls_->Accept(fd);
    if (!tls) {
      ::close(fd);
      return;
    }
  }
  auto* connection = new ClientConn(*this, fd, kind, std::move(peer_ip), std::move(tls));
  connection->list_next = client_list_;
  if (client_list_) client_list_->list_prev = connection;
  client_list_ = connection;
  ++clients_;
  if (kind == ListenerKind::kGateway) ++gateway_clients_;
  connection->Start();
}

void Worker::ClientClosed(ClientConn* connection) {
  if (connection->list_prev) {
    connection->list_prev->list_next = connection->list_next;
  } else {
    client_list_ = connection->list_next;
  }
  if (connection->list_next) connection->list_next->list_prev = connection->list_prev;
  connection->list_prev = connection->list_next = nullptr;
  --clients_;
  if (connection->kind() == ListenerKind::kGateway) --gateway_clients_;
  loop_->DeleteLater(std::unique_ptr<net::LoopOwned>(connection));
  for (auto& listener : listeners_) {  // one paused at its limit takes connections again
    if (!AtConnectionLimit(listener->kind())) listener->ResumeIfPaused();
  }
}

std::string Worker::TakeString() {
  if (spare_strings_.empty()) return {};
  std::string text = std::move(spare_strings_.back());
  spare_strings_.pop_back();
  return text;
}

void Worker::GiveString(std::string&& text) {
  constexpr size_t kMaxSpares = 1024;
  constexpr size_t kMaxKeptCapacity = size_t{64} * 1024;  // a large body's buffer is not kept
  if (spare_strings_.size() >= kMaxSpares || text.capacity() > kMaxKeptCapacity) return;
  text.clear();
  spare_strings_.push_back(std::move(text));
}

void Worker::NewRequestId(char (&id)[36]) {
  // A random (version 4) UUID: 8-4-4-4-12 hex digits.
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t words[2] = {random_.Next(), random_.Next()};
  unsigned char bytes[16];
  std::memcpy(bytes, words, sizeof bytes);
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // variant 10
  static constexpr uint16_t kDashAfter = 0b10'1010'1000;            // after bytes 3, 5, 7 and 9
  char* out = id;
  for (int i = 0; i < 16; ++i) {
    *out++ = kHex[bytes[i] >> 4];
    *out++ = kHex[bytes[i] & 0xf];
    if (i < 10 && ((kDashAfter >> i) & 1)) *out++ = '-';
  }
}

}  // namespace gantry::proxy
