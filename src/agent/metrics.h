// GET /metrics: the agent's figures in Prometheus' text format, gathered when asked (a scrape):
// the data plane per service and per gateway route (requests, responses by status class,
// latency histogram, retries, timeouts, breaker refusals, rate limiting, upstream failures,
// endpoints, ejections), the supervisor per replica (up, restarts, OOM kills, CPU, memory),
// the broker per topic and subscription, and the store. Names and labels: docs/observability.md.
// Control-plane thread (the data plane's counters are read with relaxed loads).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "broker/broker.h"
#include "orchestrator/supervisor.h"
#include "proxy/resilience/outlier_detector.h"
#include "proxy/snapshot.h"
#include "store/embedded_store.h"
#include "telemetry/call_graph.h"
#include "telemetry/trace_store.h"

namespace gantry::agent {

struct MetricsSources {
  std::string app;
  const proxy::Snapshot* snapshot = nullptr;
  const proxy::OutlierDetector* outliers = nullptr;
  const orchestrator::Supervisor* supervisor = nullptr;
  const broker::Broker* broker = nullptr;
  std::vector<broker::SubscriptionInfo> subscriptions;
  const store::EmbeddedStore* store = nullptr;
  double start_time_seconds = 0;                  // the agent's, Unix time
  const telemetry::TraceStore* traces = nullptr;  // null: tracing is off
  const telemetry::CallGraph* calls = nullptr;    // null: tracing is off
};

std::string MetricsText(const MetricsSources& sources);

}  // namespace gantry::agent
