#include "agent/metrics.h"

#include "telemetry/prometheus.h"
#include "version.h"

namespace gantry::agent {

namespace {

using telemetry::Label;
using telemetry::PrometheusText;
using Type = PrometheusText::Type;

constexpr const char* kClasses[] = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};

telemetry::HistogramTotals LatencyOf(const proxy::TrafficTotals& t) {
  telemetry::HistogramTotals h;
  h.buckets.assign(std::begin(t.latency), std::end(t.latency));
  h.sum = t.latency_sum_us;
  return h;
}

// The same families for services and routes: `prefix` is gantry_service or gantry_route.
struct TrafficRow {
  std::vector<Label> labels;
  proxy::TrafficTotals totals;
};

void Traffic(PrometheusText& out, const std::string& prefix, const std::string& what,
             const std::vector<TrafficRow>& rows) {
  auto counter = [&](const char* name, const char* help, auto field) {
    out.Family(prefix + name, Type::kCounter, help + (" per " + what + "."));
    for (const TrafficRow& row : rows)
      out.Sample(row.labels, static_cast<double>(field(row.totals)));
  };
  counter("_requests_total", "Requests", [](const auto& t) { return t.requests; });
  out.Family(prefix + "_responses_total", Type::kCounter,
             "Responses by status class (none: the client got no response) per " + what + ".");
  for (const TrafficRow& row : rows) {
    for (int c = 0; c < 6; ++c) {
      std::vector<Label> labels = row.labels;
      labels.push_back({"class", kClasses[c]});
      out.Sample(labels, static_cast<double>(row.totals.by_class[c]));
    }
  }
  out.Family(prefix + "_request_duration_seconds", Type::kHistogram,
             "Time from the request's head to the response's end per " + what + ".");
  for (const TrafficRow& row : rows) {
    out.Histogram(row.labels, proxy::kLatencyBoundsUs, LatencyOf(row.totals), 1e6);
  }
  counter("_retries_total", "Tries after the first", [](const auto& t) { return t.retries; });
  counter("_timeouts_total", "Requests gantry answered 504",
          [](const auto& t) { return t.timeouts; });
  counter("_breaker_refusals_total", "Requests a circuit breaker refused (503)",
          [](const auto& t) { return t.overflows; });
  counter("_rate_limited_total", "Requests a rate limit refused (429)",
          [](const auto& t) { return t.rate_limited; });
  counter("_upstream_failures_total", "Connect failures, resets and bad responses of replicas",
          [](const auto& t) { return t.upstream_failures; });
}

void Proxy(PrometheusText& out, const MetricsSources& s) {
  std::vector<TrafficRow> services;
  for (const proxy::Cluster& cluster : s.snapshot->clusters) {
    services.push_back({{{"service", cluster.service}}, cluster.runtime->stats.Merge()});
  }
  Traffic(out, "gantry_service", "service", services);
  out.Family("gantry_service_endpoints", Type::kGauge,
             "Replicas the service's traffic is balanced over (healthy, not ejected).");
  for (const proxy::Cluster& cluster : s.snapshot->clusters) {
    Label labels[] = {{"service", cluster.service}};
    out.Sample(labels, static_cast<double>(cluster.endpoints.size()));
  }
  if (s.outliers) {
    out.Family("gantry_service_ejections_total", Type::kCounter,
               "Replicas ejected from load balancing as outliers.");
    for (const proxy::Cluster& cluster : s.snapshot->clusters) {
      Label labels[] = {{"service", cluster.service}};
      out.Sample(labels, static_cast<double>(s.outliers->EjectionsTotal(cluster.service)));
    }
    out.Family("gantry_service_ejected", Type::kGauge, "Replicas ejected now.");
    for (const proxy::Cluster& cluster : s.snapshot->clusters) {
      Label labels[] = {{"service", cluster.service}};
      out.Sample(labels, static_cast<double>(s.outliers->EjectedCount(cluster.service)));
    }
  }
  std::vector<TrafficRow> routes;
  for (const proxy::Route& route : s.snapshot->routes) {
    routes.push_back({{{"host", route.host},
                       {"path", route.prefix},
                       {"service", s.snapshot->clusters[route.cluster].service}},
                      route.runtime->stats.Merge()});
  }
  Traffic(out, "gantry_route", "gateway route", routes);
}

void Replicas(PrometheusText& out, const MetricsSources& s) {
  auto replicas = s.supervisor->Replicas();
  auto each = [&](const char* name, Type type, const char* help, auto value) {
    out.Family(name, type, help);
    for (const orchestrator::ReplicaView& r : replicas) {
      Label labels[] = {{"service", r.service}, {"instance", r.id}};
      if (auto v = value(r)) out.Sample(labels, *v);
    }
  };
  each("gantry_replica_up", Type::kGauge, "1 while the replica's process runs.",
       [](const auto& r) -> std::optional<double> { return r.pid != 0 ? 1 : 0; });
  each("gantry_replica_restarts_total", Type::kCounter, "Restarts after the replica exited.",
       [](const auto& r) -> std::optional<double> { return r.restarts; });
  each("gantry_replica_oom_kills_total", Type::kCounter,
       "Exits caused by the kernel's OOM killer at the replica's memory limit.",
       [](const auto& r) -> std::optional<double> { return r.oom_kills; });
  std::vector<std::optional<orchestrator::ProcStats>> usage;
  for (const auto& r : replicas) usage.push_back(s.supervisor->Usage(r.id));
  size_t i = 0;
  each("gantry_replica_cpu_seconds_total", Type::kCounter,
       "CPU time (user and system) of the running replica (its cgroup's, children included).",
       [&](const auto&) -> std::optional<double> {
         auto& u = usage[i++];
         return u ? std::optional<double>(u->cpu_seconds) : std::nullopt;
       });
  i = 0;
  each("gantry_replica_memory_bytes", Type::kGauge,
       "Memory of the running replica (its cgroup's, else its resident set).",
       [&](const auto&) -> std::optional<double> {
         auto& u = usage[i++];
         return u ? std::optional<double>(static_cast<double>(u->memory_bytes)) : std::nullopt;
       });
}

void Broker(PrometheusText& out, const MetricsSources& s) {
  auto topics = s.broker->Topics();
  auto each_topic = [&](const char* name, Type type, const char* help, auto field) {
    out.Family(name, type, help);
    for (const auto& t : topics) {
      Label labels[] = {{"topic", t.name}};
      out.Sample(labels, static_cast<double>(field(t)));
    }
  };
  each_topic("gantry_topic_published_total", Type::kCounter,
             "Messages published to the topic (its next offset).",
             [](const auto& t) { return t.next_offset; });
  each_topic("gantry_topic_messages", Type::kGauge, "Messages the topic retains.",
             [](const auto& t) { return t.messages; });
  each_topic("gantry_topic_bytes", Type::kGauge,
             "Size of the topic's segment files (on JetStream: its stream's bytes).",
             [](const auto& t) { return t.bytes; });
  auto each_sub = [&](const char* name, Type type, const char* help, auto field) {
    out.Family(name, type, help);
    for (const auto& sub : s.subscriptions) {
      Label labels[] = {{"topic", sub.topic}, {"service", sub.service}};
      out.Sample(labels, static_cast<double>(field(sub)));
    }
  };
  each_sub("gantry_subscription_lag", Type::kGauge,
           "Messages of the topic not yet acknowledged by the subscribing service.",
           [&](const auto& sub) {
             uint64_t next = s.broker->NextOffset(sub.topic);
             return next > sub.committed ? next - sub.committed : 0;
           });
  each_sub("gantry_subscription_in_flight", Type::kGauge, "Deliveries under way.",
           [](const auto& sub) { return sub.in_flight; });
  each_sub("gantry_subscription_delivered_total", Type::kCounter, "Deliveries acknowledged.",
           [](const auto& sub) { return sub.delivered; });
  each_sub("gantry_subscription_redelivered_total", Type::kCounter, "Deliveries tried again.",
           [](const auto& sub) { return sub.redelivered; });
  each_sub("gantry_subscription_dead_lettered_total", Type::kCounter,
           "Messages given up on and published to the dead-letter topic.",
           [](const auto& sub) { return sub.dead_lettered; });
}

void Store(PrometheusText& out, const store::EmbeddedStore& store) {
  auto one = [&](const char* name, Type type, const char* help, double value) {
    out.Family(name, type, help);
    out.Sample({}, value);
  };
  one("gantry_store_revision", Type::kGauge, "The store's revision (its last write).",
      static_cast<double>(store.revision()));
  one("gantry_store_log_syncs_total", Type::kCounter, "fdatasyncs of the store's log.",
      static_cast<double>(store.stats().appends));
  one("gantry_store_writes_total", Type::kCounter, "Writes made durable.",
      static_cast<double>(store.stats().records));
  one("gantry_store_failed_syncs_total", Type::kCounter, "Log appends that failed.",
      static_cast<double>(store.stats().failed_appends));
}

void Tracing(PrometheusText& out, const telemetry::TraceStore& traces) {
  auto one = [&](const char* name, const char* help, uint64_t value) {
    out.Family(name, Type::kCounter, help);
    out.Sample({}, static_cast<double>(value));
  };
  one("gantry_traces_kept_total", "Traces kept (errors, slow ones, and the sampled share).",
      traces.kept());
  one("gantry_traces_sampled_out_total", "Traces decided against after grouping.",
      traces.sampled_out());
  one("gantry_trace_spans_sampled_out_total", "Ordinary spans of traces never chosen.",
      traces.sampled_out_spans());
  one("gantry_trace_spans_dropped_total",
      "Spans lost for want of room (a worker's ring full, or too many waiting).",
      traces.dropped_spans());
}

void Calls(PrometheusText& out, const telemetry::CallGraph& calls) {
  std::vector<telemetry::CallGraph::Edge> edges = calls.Edges();
  auto family = [&](const char* name, const char* help, auto field) {
    out.Family(name, Type::kCounter, help);
    for (const auto& edge : edges) {
      Label labels[] = {{"from", edge.from}, {"to", edge.to}};
      out.Sample(labels, static_cast<double>(field(edge)));
    }
  };
  family("gantry_calls_total",
         "Proxied calls by caller (a service, gateway or external) and callee, from the spans.",
         [](const auto& edge) { return edge.calls; });
  family("gantry_call_errors_total", "Of those, calls answered 5xx or not at all.",
         [](const auto& edge) { return edge.errors; });
}

}  // namespace

std::string MetricsText(const MetricsSources& s) {
  PrometheusText out;
  out.Family("gantry_build_info", Type::kGauge, "The agent's version and app; always 1.");
  Label info[] = {{"version", kVersion}, {"commit", kGitCommit}, {"app", s.app}};
  out.Sample(info, 1);
  out.Family("gantry_agent_start_time_seconds", Type::kGauge, "When the agent started, Unix time.");
  out.Sample({}, s.start_time_seconds);
  if (s.snapshot) Proxy(out, s);
  if (s.supervisor) Replicas(out, s);
  if (s.broker) Broker(out, s);
  if (s.store) Store(out, *s.store);
  if (s.traces) Tracing(out, *s.traces);
  if (s.calls) Calls(out, *s.calls);
  return out.Take();
}

}  // namespace gantry::agent
