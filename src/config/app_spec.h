// The app file (gantry.yaml) as typed values. Plain data: produced once by config/app_file.h,
// then read by every other part. What PRODUCT.md defines but gantry does not build yet is
// rejected by the parser, so nothing here is silently ignored.
#pragma once

#include <filesystem>
#include <map>
#include <string>
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
  enum class Policy { kRoundRobin, kRandom, kLeastRequest, kRingHash, kMaglev };
  Policy policy = Policy::kRoundRobin;
  // For the hashing policies: what names a request's key. Without one, they hash the client IP.
  enum class HashOn { kClientIp, kHeader, kCookie, kPath };
  HashOn hash_on = HashOn::kClientIp;
  std::string hash_name;  // the header or cookie name

  friend bool operator==(const LbSpec&, const LbSpec&) = default;
};

struct ServiceSpec {
  std::string name;
  std::vector<std::string> command;  // argv; argv[0] relative to the app file's folder or on PATH
  std::map<std::string, std::string> env;  // added to the agent's environment
  int replicas = 1;
  HealthSpec health;
  RestartPolicy restart = RestartPolicy::kAlways;
  std::vector<std::string> depends_on;  // started once each of these has a healthy replica
  Duration stop_grace{std::chrono::seconds(10)};  // SIGTERM, then SIGKILL after this
  LbSpec lb;
  Location location;
};

struct RouteSpec {
  std::string path = "/";  // prefix, matched on whole path segments
  std::string host;        // empty: any host
  std::string service;
  bool strip_prefix = false;
  Location location;
};

struct GatewaySpec {
  std::string listen = "127.0.0.1:8080";
  std::vector<RouteSpec> routes;
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

  const ServiceSpec* FindService(std::string_view service_name) const;
};

const char* RestartPolicyName(RestartPolicy policy);

}  // namespace gantry::config
