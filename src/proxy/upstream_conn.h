// One connection from a worker to an endpoint (replica). Busy, it belongs to one Exchange,
// which gets its readiness events; idle, it sits in its endpoint's per-worker pool, and any
// sign of life from the replica (bytes nobody asked for, a FIN, an error) closes it, so a
// pooled connection is known good without a syscall to check it.
// Worker thread only; deleted through the loop.
#pragma once

#include <memory>

#include "net/event_loop.h"
#include "proxy/buffer_pool.h"
#include "proxy/cluster_runtime.h"
#include "proxy/endpoint_state.h"

namespace gantry::proxy {

class Worker;

// Who gets a busy connection's readiness events: an Exchange, or an HTTP/2 call's H1Upstream.
class UpstreamUser {
 public:
  virtual void OnUpstreamIo(uint32_t events) = 0;

 protected:
  ~UpstreamUser() = default;
};

class UpstreamConn final : public net::IoHandler {
 public:
  // Holds one of the service's max_connections while open.
  UpstreamConn(Worker& worker, int fd, EndpointRuntime* runtime,
               std::shared_ptr<ClusterRuntime> cluster);
  ~UpstreamConn() override;

  void OnIo(uint32_t events) override;
  void Close();  // unregisters and closes the socket; the object is deleted later

  int fd() const { return fd_; }
  EndpointRuntime* runtime() const { return runtime_; }

  UpstreamUser* owner = nullptr;  // busy: who gets the events
  std::unique_ptr<IoBuffer> in;   // the response being read (busy only)
  bool connected = false;
  bool readable = false;     // edge-triggered: bytes (or EOF) may be waiting
  bool peer_closed = false;  // the replica sent FIN (EPOLLRDHUP): read on to the EOF
  bool writable = false;
  UpstreamConn* idle_prev = nullptr;  // the endpoint's pool (idle only)
  UpstreamConn* idle_next = nullptr;
  int64_t idle_since_ms = 0;  // when it went back to the pool

 private:
  Worker& worker_;
  int fd_;
  EndpointRuntime* runtime_;  // alive while busy (the exchange's view) or pooled (see Worker)
  std::shared_ptr<ClusterRuntime> cluster_;
};

}  // namespace gantry::proxy
