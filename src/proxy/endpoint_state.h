// What the data plane keeps about one endpoint (replica) beyond a snapshot's lifetime: one
// slot per worker, each touched by its worker only (no atomics, no sharing of cache lines),
// and the few counters all workers share (outlier detection). The snapshot builder hands the
// same EndpointRuntime to every snapshot that still lists the endpoint, so in-flight counts,
// latency estimates and pooled connections survive unrelated changes.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace gantry::proxy {

class H2Backend;
class UpstreamConn;

struct alignas(64) EndpointWorkerState {
  // Requests in flight from this worker (least_request, peak_ewma; drains read it from the
  // control plane). One writer: updates are plain load-add-store, no locked instruction.
  std::atomic<uint32_t> active{0};
  void AddActive(int delta) {
    active.store(active.load(std::memory_order_relaxed) + static_cast<uint32_t>(delta),
                 std::memory_order_relaxed);
  }
  uint32_t Active() const { return active.load(std::memory_order_relaxed); }

  uint32_t idle_count = 0;       // connections in `idle`
  UpstreamConn* idle = nullptr;  // pooled keep-alive connections, most recent first
  H2Backend* h2 = nullptr;       // multiplexed HTTP/2 connections (protocol: grpc), busy or not
  uint64_t generation = 0;       // the worker's snapshot generation that last listed it
  bool retired = false;          // gone from the worker's snapshot: its connections are closed
  double ewma_us = 0;            // peak-EWMA latency estimate (0: no sample yet)
  int64_t ewma_at_us = 0;        // when it was last updated
  int64_t smooth_weight = 0;     // smooth weighted round robin's running weight
};

struct EndpointRuntime {
  explicit EndpointRuntime(size_t workers)
      : per_worker(new EndpointWorkerState[workers]), workers(workers) {}
  // Requests in flight from every worker (any thread; a moment's view).
  uint32_t InFlight() const {
    uint32_t sum = 0;
    for (size_t i = 0; i < workers; ++i) sum += per_worker[i].Active();
    return sum;
  }
  std::unique_ptr<EndpointWorkerState[]> per_worker;
  size_t workers;
  // Consecutive failures seen by any worker (reset by a success); see Exchange::NoteTryResult.
  std::atomic<uint32_t> consecutive_5xx{0};
  std::atomic<uint32_t> consecutive_gateway_errors{0};
};

}  // namespace gantry::proxy
