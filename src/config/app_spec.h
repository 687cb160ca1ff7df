// The app file (gantry.yaml) as typed values. Plain data: produced once by config/app_file.h,
// then read by every other part. What PRODUCT.md defines but gantry does not build yet is
// rejected by the parser, so nothing here is silently ignored.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/duration.h"

namespace gantry::config {

// 1-based position in the app file, for messages that point back at it.
struct Location {
  int line = 0;
  int column = 0;
};

struct HealthSpec {
  enum class Kind { kNone, kHttp, kTcp, kGrpc, kTtl };
  Kind kind = Kind::kNone;   // kNone: a replica is healthy while its process runs
  std::string http_path;     // for kHttp, e.g. "/healthz"
  std::string grpc_service;  // for kGrpc: the name asked about ("": the whole server)
  Duration ttl{};            // for kTtl: unhealthy when no heartbeat came for this long
  Duration interval{std::chrono::seconds(2)};
  Duration timeout{std::chrono::seconds(1)};
  int healthy_after = 1;    // consecutive passes to become healthy
  int unhealthy_after = 3;  // consecutive failures to become unhealthy

  friend bool operator==(const HealthSpec&, const HealthSpec&) = default;
};

enum class RestartPolicy { kAlways, kOnFailure, kNever };

// How callers spread requests over a service's replicas (`policy.lb`, `policy.hash_on`).
struct LbSpec {
  enum class Policy { kRoundRobin, kRandom, kLeastRequest, kPeakEwma, kRingHash, kMaglev };
  Policy policy = Policy::kRoundRobin;
  // For the hashing policies: what names a request's key. Without one, they hash the client IP.
  enum class HashOn { kClientIp, kHeader, kCookie, kPath };
  HashOn hash_on = HashOn::kClientIp;
  std::string hash_name;  // the header or cookie name

  friend bool operator==(const LbSpec&, const LbSpec&) = default;
};

// Retries (`policy.retries`). Without the block, a connect failure is retried once: the
// request never reached a replica, so that is safe for any method.
struct RetrySpec {
  int attempts = 1;  // retries after the first try; 0: none
  bool on_connect_failure = true;
  // The connection failed after the request was sent, before any of the response reached the
  // client: on by default for idempotent methods, as nginx's proxy_next_upstream does.
  bool on_reset = true;
  bool on_5xx = false;              // any 5xx answer
  bool on_gateway_error = false;    // 502, 503, 504
  std::vector<int> on_status;       // these answers ("503")
  std::vector<int> on_grpc_status;  // gRPC calls ending with these codes ("unavailable": 14)
  Duration per_try_timeout{0};      // 0: only the route's timeout bounds a try
  double budget = 0.2;              // retries in flight at most this share of requests in flight
  int min_retries = 3;              // ... but this many are always allowed
  Duration backoff{std::chrono::milliseconds(25)};  // base of the jittered exponential backoff
  Duration max_backoff{std::chrono::milliseconds(250)};
  bool non_idempotent = false;  // retry POST and PATCH too (only when the service is safe for it)

  friend bool operator==(const RetrySpec&, const RetrySpec&) = default;
};

// Limits per service, across workers; past one, requests get 503 at once (`x-gantry-overloaded`).
struct BreakerSpec {
  int max_connections = 1024;  // upstream connections open
  int max_pending = 1024;      // requests waiting for a connection to be established
  int max_requests = 1024;     // requests in flight

  friend bool operator==(const BreakerSpec&, const BreakerSpec&) = default;
};

// Outlier detection (`policy.outlier`): off unless the block is there.
struct OutlierSpec {
  bool enabled = false;
  int consecutive_5xx = 5;                           // 0: not by 5xx
  int consecutive_gateway_errors = 0;                // 502/503/504 and failed connections; 0: off
  Duration base_ejection{std::chrono::seconds(30)};  // times the number of ejections so far
  int max_ejection_percent = 10;  // of the service's replicas, at most this share ejected

  friend bool operator==(const OutlierSpec&, const OutlierSpec&) = default;
};

// How callers reach a service (`policy:`).
struct PolicySpec {
  LbSpec lb;
  Duration timeout{std::chrono::seconds(15)};  // a request's whole time, retries included
  RetrySpec retries;
  BreakerSpec circuit_breaker;
  OutlierSpec outlier;
  int panic_threshold = 50;  // percent: under this share healthy, spread over every replica
  Duration slow_start{0};    // a new replica's share of traffic grows over this long; 0: off

  friend bool operator==(const PolicySpec&, const PolicySpec&) = default;
};

// How replicas are replaced (`update:`): at most `max_surge` extra replicas run meanwhile, at
// most `max_unavailable` of the wanted count are out of routing at once.
struct UpdateSpec {
  int max_surge = 1;
  int max_unavailable = 0;
  Duration deadline{std::chrono::seconds(60)};  // per batch: healthy by then, or roll back

  friend bool operator==(const UpdateSpec&, const UpdateSpec&) = default;
};

// Vertical limits per replica (`resources:`), through cgroups.
struct ResourcesSpec {
  static constexpr double kMaxCpus = 1024;
  static constexpr uint64_t kMinMemory = uint64_t{4} * 1024 * 1024;  // below: 0 or refused

  double cpus = 0;      // CPU time per wall time (0.5: half a core); 0: no limit
  uint64_t memory = 0;  // bytes; 0: no limit

  bool any() const { return cpus > 0 || memory > 0; }

  friend bool operator==(const ResourcesSpec&, const ResourcesSpec&) = default;
};

// Replicas that follow load (`autoscale:`); see orchestrator/autoscaler.h.
struct AutoscaleSpec {
  bool enabled = false;
  int min = 1;
  int max = 1;
  double target_rps = 0;  // requests per second per replica; 0: not by rate
  double target_cpu = 0;  // CPU use per replica, 0..1 of its limit (or of a core); 0: not by CPU
  Duration up_window{0};  // scaling up: fast
  Duration down_window{std::chrono::seconds(60)};  // scaling down: slow
  Duration cooldown{std::chrono::seconds(10)};     // between two changes
  Duration interval{std::chrono::seconds(1)};      // how often load is looked at

  friend bool operator==(const AutoscaleSpec&, const AutoscaleSpec&) = default;
};

// A subscription (`subscribe:`): the service gets every message of `topic` once as a group,
// as a POST of `path` to one healthy replica; a 2xx acknowledges.
struct SubscribeSpec {
  std::string topic;
  std::string path;
  std::string dead_letter;  // default: "<topic>.dlq"
  int max_deliver = 5;      // deliveries before the message goes to the dead-letter topic
  bool ordered = false;     // per key: one at a time, in offset order (other keys go on)
  Location location;

  friend bool operator==(const SubscribeSpec& a, const SubscribeSpec& b) {
    return a.topic == b.topic && a.path == b.path && a.dead_letter == b.dead_letter &&
           a.max_deliver == b.max_deliver && a.ordered == b.ordered;
  }
};

struct ServiceSpec {
  std::string name;
  std::vector<std::string> command;  // argv; argv[0] relative to the app file's folder or on PATH
  std::map<std::string, std::string> env;  // added to the agent's environment
  int replicas = 1;
  // How the mesh speaks to the replicas: HTTP/1.1, or HTTP/2 for gRPC (`protocol: grpc`).
  enum class Protocol { kHttp, kGrpc };
  Protocol protocol = Protocol::kHttp;
  HealthSpec health;
  RestartPolicy restart = RestartPolicy::kAlways;
  std::vector<std::string> depends_on;  // started once each of these has a healthy replica
  Duration stop_grace{std::chrono::seconds(10)};  // SIGTERM, then SIGKILL after this
  PolicySpec policy;
  UpdateSpec update;
  ResourcesSpec resources;
  AutoscaleSpec autoscale;
  std::vector<SubscribeSpec> subscribe;
  Location location;
};

// A route's local rate limit: a token bucket per client IP or per value of a header.
struct RateLimitSpec {
  double rps = 0;  // tokens added per second; 0: no limit
  int burst = 0;   // bucket size
  enum class By { kClientIp, kHeader };
  By by = By::kClientIp;
  std::string header;  // for kHeader

  friend bool operator==(const RateLimitSpec&, const RateLimitSpec&) = default;
};

struct RouteSpec {
  std::string path = "/";  // prefix, matched on whole path segments
  std::string host;        // empty: any host
  std::string service;
  bool strip_prefix = false;
  std::vector<std::string> methods;  // empty: any; otherwise others get 405
  RateLimitSpec rate_limit;
  Location location;
};

// A certificate chain and its private key for the gateway's TLS (PEM files).
struct TlsCertSpec {
  std::filesystem::path cert;  // absolute (relative ones are resolved from the app's folder)
  std::filesystem::path key;
  Location location;

  friend bool operator==(const TlsCertSpec& a, const TlsCertSpec& b) {
    return a.cert == b.cert && a.key == b.key;
  }
};

struct GatewaySpec {
  std::string listen = "127.0.0.1:8080";
  std::vector<RouteSpec> routes;
  // `tls:` one {cert, key}, or a list of them: the client's SNI picks the certificate whose
  // names match (the first one otherwise). Empty: plain HTTP.
  std::vector<TlsCertSpec> tls;
};

struct MeshSpec {
  std::string listen = "127.0.0.1:7701";
};

struct AppSpec {
  std::string name;                   // defaults to the app file's folder name
  std::filesystem::path file;         // the app file as given
  std::filesystem::path directory;    // where commands run
  std::vector<ServiceSpec> services;  // in file order
  GatewaySpec gateway;
  MeshSpec mesh;

  // A scan, for a few lookups; many (checks over every service) go through a ServiceIndex.
  const ServiceSpec* FindService(std::string_view service_name) const;
};

// Services by name, so that code looking up every service's references stays linear in the
// app's size. Valid while the spec's services are neither added, removed nor renamed.
class ServiceIndex {
 public:
  explicit ServiceIndex(const AppSpec& spec);
  const ServiceSpec* Find(std::string_view name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second;
  }

 private:
  std::unordered_map<std::string_view, const ServiceSpec*> by_name_;
};

const char* RestartPolicyName(RestartPolicy policy);

}  // namespace gantry::config
