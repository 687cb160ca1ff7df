// How a worker picks an endpoint for a request: the cluster's policy over the worker's own
// state (round-robin positions, in-flight counts, latency estimates). Part of Worker.
#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>

#include "proxy/worker.h"

namespace gantry::proxy {

const Endpoint& Worker::PickEndpoint(WorkerView& view, const Cluster& cluster, uint64_t key_hash,
                                     const Endpoint* avoid) {
  const auto& endpoints = cluster.endpoints;
  size_t n = endpoints.size();
  size_t picked = PickByPolicy(view, cluster, key_hash);
  if (avoid && &endpoints[picked] == avoid && n > 1) picked = (picked + 1) % n;
  return endpoints[picked];
}

size_t Worker::PickByPolicy(WorkerView& view, const Cluster& cluster, uint64_t key_hash) {
  using Policy = config::LbSpec::Policy;
  const auto& endpoints = cluster.endpoints;
  size_t n = endpoints.size();
  if (cluster.ring) return cluster.ring->Pick(key_hash);
  if (cluster.maglev) return cluster.maglev->Pick(key_hash);
  if (n == 1) return 0;
  if (cluster.slow_start_until_unix_ms != 0) {
    int64_t now_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
    if (now_unix_ms < cluster.slow_start_until_unix_ms) return PickSlowStart(cluster, now_unix_ms);
  }
  WorkerView::ClusterState& state =
      view.clusters[static_cast<size_t>(&cluster - view.snapshot->clusters.data())];
  switch (cluster.policy.lb.policy) {
    case Policy::kRandom:
      return random_.Below(n);
    case Policy::kLeastRequest:
      return state.least_request.Pick(
          n, [&](size_t i) { return endpoints[i].runtime->per_worker[index_].Active(); });
    case Policy::kPeakEwma:
      return PickPeakEwma(cluster);
    default:
      return cluster.weighted ? PickWeightedRoundRobin(cluster) : state.round_robin.Pick(n);
  }
}

// nginx's smooth weighted round robin: every endpoint gains its weight, the richest is picked
// and pays the total. Spreads each endpoint's turns evenly over the cycle.
size_t Worker::PickWeightedRoundRobin(const Cluster& cluster) {
  int64_t total = 0;
  size_t best = 0;
  int64_t best_weight = INT64_MIN;
  for (size_t i = 0; i < cluster.endpoints.size(); ++i) {
    const Endpoint& endpoint = cluster.endpoints[i];
    EndpointWorkerState& state = endpoint.runtime->per_worker[index_];
    state.smooth_weight += endpoint.weight;
    total += endpoint.weight;
    if (state.smooth_weight > best_weight) {
      best_weight = state.smooth_weight;
      best = i;
    }
  }
  cluster.endpoints[best].runtime->per_worker[index_].smooth_weight -= total;
  return best;
}

// Slow start: a replica that became healthy less than `slow_start` ago gets a share growing
// linearly with its age (from a tenth), by weighted random choice while any is ramping up.
size_t Worker::PickSlowStart(const Cluster& cluster, int64_t now_unix_ms) {
  double window = static_cast<double>(cluster.policy.slow_start.count());
  auto share = [&](const Endpoint& endpoint) {
    double age = static_cast<double>(now_unix_ms - endpoint.healthy_since_unix_ms);
    return std::clamp(age / window, 0.1, 1.0) * endpoint.weight;
  };
  double total = 0;
  for (const Endpoint& endpoint : cluster.endpoints) total += share(endpoint);
  double point = static_cast<double>(random_.Next() >> 11) * 0x1.0p-53 * total;
  for (size_t i = 0; i < cluster.endpoints.size(); ++i) {
    double weight = share(cluster.endpoints[i]);
    if (point < weight) return i;
    point -= weight;
  }
  return cluster.endpoints.size() - 1;
}

// Peak EWMA with the power of two choices (Finagle's balancer): of two endpoints, the one
// with the lower latency estimate times requests in flight (plus one).
size_t Worker::PickPeakEwma(const Cluster& cluster) {
  size_t n = cluster.endpoints.size();
  size_t a = random_.Below(n);
  size_t b = random_.Below(n - 1);
  if (b >= a) ++b;
  auto cost = [&](size_t i) {
    const EndpointWorkerState& state = cluster.endpoints[i].runtime->per_worker[index_];
    return state.ewma_us * (state.Active() + 1);
  };
  return cost(b) < cost(a) ? b : a;
}

void Worker::RecordLatency(const Cluster& cluster, const Endpoint& endpoint, int64_t latency_us) {
  if (cluster.policy.lb.policy != config::LbSpec::Policy::kPeakEwma) return;
  constexpr double kDecayUs = 10e6;  // the estimate forgets over about ten seconds
  EndpointWorkerState& state = endpoint.runtime->per_worker[index_];
  auto sample = static_cast<double>(std::max<int64_t>(latency_us, 1));
  int64_t now = loop_->now_us();
  if (state.ewma_us == 0 || sample > state.ewma_us) {
    state.ewma_us = sample;  // peaks count at once
  } else {
    double keep = std::exp(-static_cast<double>(now - state.ewma_at_us) / kDecayUs);
    state.ewma_us = state.ewma_us * keep + sample * (1 - keep);
  }
  state.ewma_at_us = now;
}

}  // namespace gantry::proxy
