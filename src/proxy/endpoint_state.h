// What the data plane keeps about one endpoint (replica) beyond a snapshot's lifetime: one
// slot per worker, each touched by its worker only (no atomics, no sharing of cache lines).
// The snapshot builder hands the same EndpointRuntime to every snapshot that still lists the
// endpoint, so in-flight counts and pooled connections survive unrelated changes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace gantry::proxy {

class UpstreamConn;

struct alignas(64) EndpointWorkerState {
  uint32_t active = 0;           // requests in flight from this worker (least_request)
  uint32_t idle_count = 0;       // connections in `idle`
  UpstreamConn* idle = nullptr;  // pooled keep-alive connections, most recent first
  uint64_t generation = 0;       // the worker's snapshot generation that last listed it
  bool retired = false;          // gone from the worker's snapshot: its connections are closed
};

struct EndpointRuntime {
  explicit EndpointRuntime(size_t workers) : per_worker(new EndpointWorkerState[workers]) {}
  std::unique_ptr<EndpointWorkerState[]> per_worker;
};

}  // namespace gantry::proxy
