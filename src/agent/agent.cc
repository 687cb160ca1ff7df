#include "agent/agent.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <set>

#include <fmt/format.h>
#include <boost/asio/signal_set.hpp>
#include <boost/json.hpp>

#include "agent/apply_plan.h"
#include "agent/autoscaling.h"
#include "agent/broker_backend.h"
#include "agent/delivery.h"
#include "agent/key_owner.h"
#include "agent/metrics.h"
#include "agent/otlp_exporter.h"
#include "agent/progress.h"
#include "agent/state_dir.h"
#include "agent/store_backend.h"
#include "api/api.h"
#include "api/json_http.h"
#include "broker/broker.h"
#include "core/crc32.h"
#include "core/log.h"
#include "core/status.h"
#include "http/server.h"
#include "net/asio.h"
#include "net/tls.h"
#include "orchestrator/supervisor.h"
#include "proxy/connection_budget.h"
#include "proxy/proxy.h"
#include "proxy/snapshot_builder.h"
#include "proxy/stats_json.h"
#include "registry/health_checker.h"
#include "registry/registry_store.h"
#include "telemetry/span_collector.h"

namespace gantry::agent {
namespace {

// The agent's lease holds its replicas' registry keys: if the agent dies, they go with it.
constexpr Duration kAgentLeaseTtl = std::chrono::seconds(10);

absl::StatusOr<HostPort> Choose(const std::optional<HostPort>& flag, const std::string& from_file) {
  if (flag) return *flag;
  return ParseHostPort(from_file);
}

// Everything one agent runs, in construction order (destroyed in reverse).
class Agent {
 public:
  Agent(const config::AppSpec& spec, const AgentOptions& options)
      : spec_(&spec), options_(options), progress_(spec, options.detached) {}

  int Run() {
    if (auto status = Setup(); !status.ok()) {
      std::fprintf(stderr, "gantry: %s\n", std::string(StatusMessage(status)).c_str());
      return 1;
    }
    io_.run();
    RemoveAgentFile(options_.state_dir);
    return exit_code_;
  }

 private:
  absl::Status Setup() {
    GANTRY_RETURN_IF_ERROR(ClaimStateDir(options_.state_dir));
    GANTRY_ASSIGN_OR_RETURN(store_,
                            OpenStoreBackend(io_, options_.store, options_.state_dir, spec_->name));
    GANTRY_ASSIGN_OR_RETURN(
        broker_, OpenBrokerBackend(io_, options_.broker, options_.state_dir, spec_->name));
    for (const auto& service : spec_->services) registry_.DeclareService(service.name);
    PublishSnapshot();

    // Named after the state folder, which one agent at a time runs from: the next agent on it
    // finds the groups of the replicas it adopts, and what a killed one left behind.
    std::error_code ignored;
    std::string state = std::filesystem::absolute(options_.state_dir, ignored).string();
    cgroups_ = orchestrator::Cgroups::Detect("/sys/fs/cgroup", "/proc/self/cgroup",
                                             fmt::format("{}-{:08x}", spec_->name, Crc32(state)));
    for (const auto& service : spec_->services) {
      if (service.resources.any() && cgroups_->version() == orchestrator::CgroupVersion::kNone) {
        return absl::FailedPreconditionError(fmt::format(
            "services.{}.resources: CPU and memory limits need cgroups (v1 cpu and memory "
            "hierarchies, or v2 with the cpu and memory controllers), and none were found",
            service.name));
      }
    }

    proxy::ProxyOptions proxy_options;
    proxy_options.workers = options_.workers;
    rlimit files{};
    ::getrlimit(RLIMIT_NOFILE, &files);  // raised to the hard limit at start (RunAgent)
    proxy::ConnectionBudget budget = proxy::BudgetFor(files.rlim_cur, options_.max_connections);
    if (budget.clamped) {
      GANTRY_LOG(kWarn,
                 "--max-connections {} is more than the descriptor limit ({}) allows; using {} "
                 "(raise the limit with ulimit -n)",
                 options_.max_connections, files.rlim_cur, budget.clients);
    }
    proxy_options.max_connections = budget.clients;
    proxy_options.max_gateway_connections = budget.gateway;
    proxy_options.access_log = options_.access_log;
    proxy_options.tracing = options_.tracing;
    proxy_options.trace_sample_rate = options_.trace_sample_rate;
    proxy_options.post_to_control = [this](std::function<void()> task) {
      net::asio::post(io_, std::move(task));
    };
    proxy_options.on_outlier = [this](const std::string& service, const std::string& instance) {
      OnOutlier(service, instance);
    };
    GANTRY_ASSIGN_OR_RETURN(proxy_options.gateway, Choose(options_.gateway, spec_->gateway.listen));
    GANTRY_ASSIGN_OR_RETURN(proxy_options.mesh, Choose(options_.mesh, spec_->mesh.listen));
    if (!spec_->gateway.tls.empty()) {
      std::vector<net::TlsServerContext::Certificate> certificates;
      for (const auto& cert : spec_->gateway.tls) certificates.push_back({cert.cert, cert.key});
      GANTRY_ASSIGN_OR_RETURN(proxy_options.gateway_tls,
                              net::TlsServerContext::Create(certificates));
    }
    GANTRY_ASSIGN_OR_RETURN(proxy_, proxy::Proxy::Create(proxy_options, snapshots_));
    if (!options_.otlp_endpoint.empty()) {
      if (!options_.tracing) {
        return absl::InvalidArgumentError("--otlp-endpoint needs tracing (drop --no-tracing)");
      }
      GANTRY_ASSIGN_OR_RETURN(otlp_, OtlpExporter::Create(io_, options_.otlp_endpoint));
    }

    HostPort api_address = options_.api.value_or(kDefaultApi);
    GANTRY_ASSIGN_OR_RETURN(
        api_server_,
        http::Server::Create(io_, api_address,
                             [this](const http::Request& request, http::Respond respond) {
                               api_->Handle(request, std::move(respond));
                             }));
    registry_store_ = std::make_unique<registry::RegistryStore>(*store_.store, registry_, &io_);
    checker_ = std::make_unique<registry::HealthChecker>(
        io_, Clock::Real(),
        [this](const std::string& id, registry::Health health, const std::string& output) {
          registry_store_->SetHealth(id, health, output);
        });
    registry_store_->OnExpired([this](const std::string& id) { checker_->Unwatch(id); });
    supervisor_ = std::make_unique<orchestrator::Supervisor>(
        io_, Clock::Real(), *spec_,
        orchestrator::SupervisorOptions{options_.state_dir, proxy_->mesh_address(),
                                        api_server_->address(), &events_, cgroups_.get(),
                                        options_.detached},
        Events());
    api_ = std::make_unique<api::Api>(
        io_,
        api::AgentInfo{spec_->name, static_cast<int>(::getpid()), api_server_->address(),
                       proxy_->gateway_address(), proxy_->mesh_address(),
                       options_.state_dir / "logs"},
        api::ApiDeps{registry_, *registry_store_, *checker_, *supervisor_, *store_.store, events_,
                     [this] {
                       return proxy::StatsJson(*snapshots_.Load(), proxy_->acknowledged_versions());
                     },
                     [this] { BeginShutdown("gantry down"); },
                     [this](const std::string& text, bool dry_run, const http::Respond& respond) {
                       Apply(text, dry_run, respond);
                     },
                     [this](const std::string& service, const std::string& key) {
                       return KeyOwnerAnswer(*snapshots_.Load(), service, key);
                     },
                     broker_.get(),
                     [this] {
                       return delivery_ ? delivery_->List()
                                        : std::vector<broker::SubscriptionInfo>{};
                     },
                     [this] { return Metrics(); }, options_.tracing ? &traces_ : nullptr,
                     options_.tracing ? &calls_ : nullptr},
        Clock::Real());
    autoscaling_ = std::make_unique<Autoscaling>(io_, *spec_, *supervisor_, snapshots_);
    delivery_ = std::make_unique<Delivery>(io_, *broker_, *store_.store, proxy_->mesh_address());
    delivery_->Configure(*spec_);
    registry_.OnChange([this] { ScheduleRegistryWork(); });
    events_.OnAdd([this] {
      if (api_) api_->EventsChanged();
    });

    GANTRY_RETURN_IF_ERROR(WriteAgentFile(
        options_.state_dir,
        {static_cast<int>(::getpid()), api_server_->address(), proxy_->gateway_address(),
         proxy_->mesh_address(), !spec_->gateway.tls.empty()}));
    progress_.Line(fmt::format("gantry: starting app \"{}\" from {} (api http://{})", spec_->name,
                               spec_->file.string(), api_server_->address().ToString()));
    proxy_->Start();
    if (options_.tracing) {
      span_collector_ =
          std::make_unique<telemetry::SpanCollector>(proxy_->SpanBuffers(), calls_, traces_);
      CollectSpans();
    }
    api_server_->Start();
    WaitForSignals();
    Boot();
    return absl::OkStatus();
  }

  // The asynchronous half of starting: the agent's lease, the registry from the store, then
  // the replicas. A failure here stops the agent.
  void Boot() {
    store_.store->GrantLease(kAgentLeaseTtl, [this](absl::StatusOr<store::LeaseGrant> lease) {
      if (!lease.ok()) return Fail("cannot take the agent's lease", lease.status());
      agent_lease_ = lease->id;
      KeepAgentLeaseAlive();
      registry_store_->Start(agent_lease_, [this](const absl::Status& status) {
        if (!status.ok()) return Fail("cannot load the registry", status);
        // Instances registered through the API before a restart: their checks run again.
        for (const auto& [id, owned] : registry_store_->owned()) {
          checker_->Watch(id, owned.instance.address, owned.instance.check);
        }
        // Replicas a killed agent left running: this agent's now, with their last health.
        for (const auto& replica : supervisor_->Adopt(
                 orchestrator::LoadReplicaRecords(options_.state_dir / "replicas.json"))) {
          const registry::Instance* earlier = registry_store_->Earlier(replica.id);
          Register(replica, earlier);
        }
        StartReadyServices();
        autoscaling_->Start();
      });
    });
  }

  void KeepAgentLeaseAlive() {
    lease_timer_.expires_after(kAgentLeaseTtl / 3);
    lease_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      store_.store->KeepAlive(agent_lease_, [this](const absl::StatusOr<store::LeaseGrant>& r) {
        if (r.ok() || shutting_down_) return;
        GANTRY_LOG(kError, "cannot keep the agent's lease: {}", StatusMessage(r.status()));
        if (absl::IsNotFound(r.status())) RenewAgentLease();
      });
      KeepAgentLeaseAlive();
    });
  }

  // The lease ran out (the disk was full for longer than its TTL): its replicas' keys went with
  // it. Take a new one and register every running replica again; their checks start over.
  void RenewAgentLease() {
    store_.store->GrantLease(
        kAgentLeaseTtl, [this](const absl::StatusOr<store::LeaseGrant>& lease) {
          if (!lease.ok() || shutting_down_) return;  // the next keepalive tries again
          agent_lease_ = lease->id;
          progress_.Line("gantry: the agent's lease had run out; registering every replica again");
          for (const auto& replica : supervisor_->Replicas()) {
            if (replica.pid != 0 && replica.state != orchestrator::ReplicaState::kStopping)
              Register(replica);
          }
        });
  }

  // `earlier`: the instance's last record (an adopted replica keeps its health).
  void Register(const orchestrator::ReplicaView& replica,
                const registry::Instance* earlier = nullptr) {
    registry::Instance instance;
    if (earlier) {
      instance.health = earlier->health;
      instance.ever_healthy = earlier->ever_healthy;
    }
    instance.id = replica.id;
    instance.service = replica.service;
    instance.address = replica.address;
    if (const config::ServiceSpec* service = spec_->FindService(replica.service)) {
      instance.check = service->health;
    }
    registry_store_->Register(instance, agent_lease_, [](const absl::Status&) {});
    checker_->Watch(replica.id, replica.address, instance.check);
  }

  void Fail(const char* what, const absl::Status& status) {
    std::fprintf(stderr, "gantry: %s: %s\n", what, std::string(StatusMessage(status)).c_str());
    exit_code_ = 1;
    shutting_down_ = true;
    if (autoscaling_) autoscaling_->Stop();
    supervisor_->StopAll([this] { Finish(); });
  }

  orchestrator::SupervisorEvents Events() {
    orchestrator::SupervisorEvents events;
    events.started = [this](const orchestrator::ReplicaView& replica) {
      progress_.Started(replica);
      Register(replica);
    };
    events.stopping = [this](const orchestrator::ReplicaView& replica,
                             std::function<void()> proceed) {
      Deregister(replica.id, std::move(proceed));
    };
    events.exited = [this](const orchestrator::ReplicaView& replica, const std::string& why) {
      progress_.Exited(replica, why, shutting_down_);
      Deregister(replica.id, [] {});
    };
    events.failed_to_start = [this](const std::string& id, const std::string& error) {
      progress_.FailedToStart(id, error);
    };
    return events;
  }

  // Takes the replica out of the store and then out of routing, before `then` (the caller's
  // SIGTERM): the snapshot without it is published at once, not with the next burst of work,
  // and `then` waits until every proxy worker has switched to it.
  // Then requests already on their way to it may finish: `then` waits until none is in
  // flight (or the service's timeout, at most stop_grace, has passed).
  void Deregister(const std::string& id, std::function<void()> then) {
    checker_->Unwatch(id);
    std::string service = ServiceOf(id);
    outliers_.Forget(service, id);
    if (!registry_store_->owned().count(id)) return then();  // already gone
    std::shared_ptr<proxy::EndpointRuntime> endpoint = EndpointOf(service, id);
    Duration drain_limit{0};
    if (const config::ServiceSpec* spec = spec_->FindService(service)) {
      drain_limit = std::min(spec->policy.timeout, spec->stop_grace);
    }
    registry_store_->Deregister(
        id, [this, then = std::move(then), endpoint, drain_limit](const absl::Status&) {
          proxy_->WhenAcknowledged(PublishSnapshot(), [this, then, endpoint, drain_limit] {
            WaitForDrain(endpoint, Clock::Real().Now() + drain_limit, then);
          });
        });
  }

  // POST /api/v1/apply: the changed app file's text. Answers the difference; unless `dry_run`,
  // after applying it (when every rollout it needed has ended).
  void Apply(const std::string& text, bool dry_run, const http::Respond& respond) {
    ApplyPlan plan = PlanApply(*spec_, text);
    if (plan.refused) return respond(std::move(*plan.refused));
    boost::json::object answer = std::move(plan.answer);
    if (dry_run || !plan.changed) return respond(api::Json(answer));
    if (plan.listen_changed) {
      return respond(
          http::JsonError(409, "needs_restart",
                          "gateway.listen, gateway.tls or mesh.listen changed: stop the agent and "
                          "start it again with the new file (nothing was applied)"));
    }
    if (shutting_down_) return respond(http::JsonError(409, "conflict", "the app is stopping"));
    // Refused before anything here changes: a refusal is not a failed rollout to roll back.
    if (auto refused = supervisor_->CanApply(); !refused.ok()) {
      return respond(api::ErrorFor(refused));
    }
    const config::AppSpec& applied = *plan.next;
    applied_.push_back(std::move(plan.next));
    for (const auto& service : applied.services) registry_.DeclareService(service.name);
    events_.Add("applied", applied.name, "", std::string(answer["text"].as_string()));
    const config::AppSpec* before = spec_;
    spec_ = &applied;
    std::set<std::string> replace = std::move(plan.replace);
    supervisor_->Apply(
        applied, replace,
        [this, before, replace, answer, respond](const absl::Status& status) mutable {
          if (status.ok()) {
            answer["applied"] = true;
            return respond(api::Json(answer));
          }
          // A failed rollout: the previous app file again, everywhere (its replicas replaced back).
          GANTRY_LOG(kWarn, "apply: {}; rolling back", StatusMessage(status));
          events_.Add("rollout", spec_->name, "",
                      fmt::format("apply failed: {}; rolling back", StatusMessage(status)));
          answer["error"] =
              fmt::format("{}; rolled back to the previous app file", StatusMessage(status));
          spec_ = before;
          supervisor_->Apply(*before, replace, [answer, respond](const absl::Status&) {
            respond(api::Json(answer, 0, 500));
          });
          RestartAutoscaling();
          PublishSnapshot();
        });
    RestartAutoscaling();
    PublishSnapshot();  // routes and policies take effect now
    StartReadyServices();
  }

  void RestartAutoscaling() {
    autoscaling_->Stop();
    autoscaling_ = std::make_unique<Autoscaling>(io_, *spec_, *supervisor_, snapshots_);
    delivery_->Configure(*spec_);  // subscriptions added or removed by the new app file
    autoscaling_->Start();
  }

  std::shared_ptr<proxy::EndpointRuntime> EndpointOf(const std::string& service,
                                                     const std::string& id) const {
    std::shared_ptr<const proxy::Snapshot> snapshot = snapshots_.Load();
    if (const proxy::Cluster* cluster = snapshot->FindCluster(service)) {
      for (const proxy::Endpoint& endpoint : cluster->endpoints) {
        if (endpoint.instance_id == id) return endpoint.runtime;
      }
    }
    return nullptr;
  }

  // Every worker routes without the endpoint now; what was already sent to it finishes.
  void WaitForDrain(std::shared_ptr<proxy::EndpointRuntime> endpoint, Clock::TimePoint deadline,
                    std::function<void()> then) {
    if (!endpoint || endpoint->InFlight() == 0 || Clock::Real().Now() >= deadline) return then();
    auto timer = std::make_shared<boost::asio::steady_timer>(io_, std::chrono::milliseconds(5));
    timer->async_wait([this, timer, endpoint = std::move(endpoint), deadline,
                       then = std::move(then)](const boost::system::error_code&) mutable {
      WaitForDrain(std::move(endpoint), deadline, std::move(then));
    });
  }

  std::string ServiceOf(const std::string& id) const {
    const registry::Instance* instance = registry_.Find(id);
    return instance ? instance->service : "";
  }

  // A worker saw an endpoint reach its service's outlier threshold.
  void OnOutlier(const std::string& service, const std::string& instance) {
    const config::ServiceSpec* spec = spec_->FindService(service);
    if (!spec || !registry_.Find(instance)) return;
    size_t endpoints = registry_.InstancesOf(service).size();
    if (!outliers_.Report(service, instance, spec->policy.outlier, endpoints)) return;
    progress_.Line(
        fmt::format("gantry: {} ejected from {}'s load balancing (outlier)", instance, service));
    events_.Add("ejected", service, instance, "outlier: too many errors in a row");
    PublishSnapshot();
    ScheduleOutlierExpiry();
  }

  void ScheduleOutlierExpiry() {
    auto next = outliers_.NextExpiry();
    if (!next) return;
    outlier_timer_.expires_at(*next);
    outlier_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      if (outliers_.Expire()) PublishSnapshot();
      ScheduleOutlierExpiry();
    });
  }

  // Registry changes come in bursts; publish one snapshot per burst, outside the caller's stack.
  void ScheduleRegistryWork() {
    if (registry_work_pending_) return;
    registry_work_pending_ = true;
    net::asio::post(io_, [this] {
      registry_work_pending_ = false;
      PublishSnapshot();
      api_->RegistryChanged();
      for (const auto& [id, health] : progress_.HealthChanges(registry_)) {
        supervisor_->OnHealthy(id, health == registry::Health::kHealthy);
      }
      if (shutting_down_) return;
      StartReadyServices();
      progress_.MaybeReady(registry_, proxy_->gateway_address(), proxy_->mesh_address(),
                           api_server_->address());
    });
  }

  // Returns the published snapshot's version.
  std::string Metrics() {
    auto snapshot = snapshots_.Load();
    MetricsSources sources{spec_->name,       snapshot.get(),     &outliers_,
                           supervisor_.get(), broker_.get(),      {},
                           store_.embedded,   start_time_seconds_};
    if (delivery_) sources.subscriptions = delivery_->List();
    if (options_.tracing) {
      sources.traces = &traces_;
      sources.calls = &calls_;
    }
    return MetricsText(sources);
  }

  // Every quarter second: the workers' spans into the trace store, and the quiet traces decided.
  void CollectSpans() {
    span_timer_.expires_after(std::chrono::milliseconds(250));
    span_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || !proxy_) return;
      int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::steady_clock::now().time_since_epoch())
                           .count();
      std::vector<telemetry::SpanRecord> kept = span_collector_->Collect(now_us, otlp_ != nullptr);
      if (otlp_ && !kept.empty()) otlp_->Export(std::move(kept));
      CollectSpans();
    });
  }

  uint64_t PublishSnapshot() {
    auto snapshot =
        proxy::BuildSnapshot(*spec_, registry_, snapshots_.Load().get(),
                             static_cast<size_t>(std::max(1, options_.workers)), &outliers_);
    if (!proxy_) {
      snapshots_.Publish(std::move(snapshot));
      return snapshots_.version();
    }
    return proxy_->Publish(std::move(snapshot));
  }

  void StartReadyServices() {
    supervisor_->StartReady([this](const std::string& s) { return registry_.HasHealthy(s); });
  }

  void WaitForSignals() {
    signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      if (!shutting_down_) {
        BeginShutdown(signal == SIGINT ? "Ctrl-C received" : "SIGTERM received");
      } else {
        progress_.Line("gantry: killing every replica");
        supervisor_->KillAll();
      }
      WaitForSignals();
    });
  }

  // Drains and stops every replica, then the agent (Ctrl-C, SIGTERM, `gantry down`).
  void BeginShutdown(const std::string& why) {
    if (shutting_down_) return;
    shutting_down_ = true;
    autoscaling_->Stop();
    progress_.Line(fmt::format("gantry: {}, stopping every replica (again to kill)", why));
    events_.Add("stopping", spec_->name, "", why + ": stopping the app");
    supervisor_->StopAll([this] { Finish(); });
  }

  void Finish() {
    lease_timer_.cancel();
    outlier_timer_.cancel();
    span_timer_.cancel();
    proxy_->Stop();
    api_server_->Stop();
    signals_.cancel();
    progress_.Line("gantry: stopped");
    io_.stop();
  }

  const config::AppSpec* spec_;                            // the newest applied
  std::vector<std::unique_ptr<config::AppSpec>> applied_;  // every applied one (replicas point in)
  const AgentOptions& options_;
  Progress progress_;
  net::asio::io_context io_{1};
  boost::asio::signal_set signals_{io_, SIGINT, SIGTERM};
  StoreBackend store_;
  std::unique_ptr<broker::Broker> broker_;  // before api_: the API holds it
  registry::Registry registry_;
  orchestrator::EventLog events_;
  std::unique_ptr<orchestrator::Cgroups> cgroups_;
  proxy::SnapshotStore snapshots_;
  std::unique_ptr<proxy::Proxy> proxy_;
  std::unique_ptr<api::Api> api_;
  std::unique_ptr<http::Server> api_server_;
  std::unique_ptr<registry::RegistryStore> registry_store_;
  std::unique_ptr<registry::HealthChecker> checker_;
  std::unique_ptr<orchestrator::Supervisor> supervisor_;
  std::unique_ptr<Autoscaling> autoscaling_;
  std::unique_ptr<Delivery> delivery_;  // after broker_ and store_: it uses them
  boost::asio::steady_timer lease_timer_{io_};
  proxy::OutlierDetector outliers_{Clock::Real()};
  telemetry::CallGraph calls_;                                // who calls whom, from every span
  std::unique_ptr<telemetry::SpanCollector> span_collector_;  // with tracing on
  telemetry::TraceStore traces_{telemetry::TraceStoreOptions{options_.trace_sample_rate}};
  boost::asio::steady_timer span_timer_{io_};
  std::unique_ptr<OtlpExporter> otlp_;  // when --otlp-endpoint is given
  double start_time_seconds_ =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  boost::asio::steady_timer outlier_timer_{io_};
  store::LeaseId agent_lease_ = 0;
  int exit_code_ = 0;
  bool registry_work_pending_ = false;
  bool shutting_down_ = false;
};

}  // namespace

int RunAgent(const config::AppSpec& spec, const AgentOptions& options) {
  ::signal(SIGPIPE, SIG_IGN);  // a peer that hangs up is an error code, not a crash
  // Every client and upstream connection is a descriptor: take all the system allows.
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  // Orphans of replicas become our children, so the supervisor's reaper collects them too.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  Agent agent(spec, options);
  return agent.Run();
}

}  // namespace gantry::agent
