#include "config/app_file.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace gantry::config {
namespace {

AppFileResult Parse(const std::string& text) { return ParseAppFile(text, "app.yaml", "/srv/app"); }

// The one error expected, as "line:col: message fragment".
void ExpectError(const std::string& text, int line, int column, const std::string& fragment) {
  AppFileResult result = Parse(text);
  ASSERT_FALSE(result.spec.has_value());
  ASSERT_EQ(result.errors.size(), 1u) << result.errors[0].ToString();
  const ConfigError& e = result.errors[0];
  EXPECT_EQ(e.file, "app.yaml");
  EXPECT_EQ(e.line, line) << e.ToString();
  EXPECT_EQ(e.column, column) << e.ToString();
  EXPECT_NE(e.message.find(fragment), std::string::npos) << e.ToString();
}

TEST(AppFile, ParsesAFullFile) {
  AppFileResult result = Parse(R"(name: shop
services:
  orders:
    command: [./bin/orders, --verbose]
    env: { LOG_LEVEL: info, WORKERS: 4 }
    replicas: 3
    protocol: http
    health: { http: /healthz, interval: 2s, timeout: 250ms, unhealthy_after: 4, healthy_after: 2 }
    restart: on-failure
    depends_on: [inventory]
    stop_grace: 1m
    policy: { lb: round_robin }
  inventory:
    command: [inv]
    health: { tcp: true }
gateway:
  listen: 127.0.0.1:0
  routes:
    - { path: /api/orders, service: orders, strip_prefix: true }
    - { host: grpc.shop.local, service: inventory }
mesh:
  listen: 127.0.0.1:0
)");
  ASSERT_TRUE(result.errors.empty()) << result.errors[0].ToString();
  const AppSpec& spec = *result.spec;
  EXPECT_EQ(spec.name, "shop");
  ASSERT_EQ(spec.services.size(), 2u);
  const ServiceSpec& orders = spec.services[0];
  EXPECT_EQ(orders.command, (std::vector<std::string>{"./bin/orders", "--verbose"}));
  EXPECT_EQ(orders.env.at("WORKERS"), "4");
  EXPECT_EQ(orders.replicas, 3);
  EXPECT_EQ(orders.health.kind, HealthSpec::Kind::kHttp);
  EXPECT_EQ(orders.health.http_path, "/healthz");
  EXPECT_EQ(orders.health.timeout, Duration(250));
  EXPECT_EQ(orders.health.unhealthy_after, 4);
  EXPECT_EQ(orders.health.healthy_after, 2);
  EXPECT_EQ(orders.restart, RestartPolicy::kOnFailure);
  EXPECT_EQ(orders.depends_on, (std::vector<std::string>{"inventory"}));
  EXPECT_EQ(orders.stop_grace, Duration(60'000));
  EXPECT_EQ(orders.location.line, 3);
  EXPECT_EQ(spec.services[1].health.kind, HealthSpec::Kind::kTcp);
  EXPECT_EQ(spec.services[1].restart, RestartPolicy::kAlways);
  ASSERT_EQ(spec.gateway.routes.size(), 2u);
  EXPECT_TRUE(spec.gateway.routes[0].strip_prefix);
  EXPECT_EQ(spec.gateway.routes[1].host, "grpc.shop.local");
  EXPECT_EQ(spec.gateway.routes[1].path, "/");
  EXPECT_EQ(spec.directory, "/srv/app");
}

TEST(AppFile, DefaultsNameToFolder) {
  AppFileResult result = Parse("services:\n  a: { command: [a] }\n");
  ASSERT_TRUE(result.spec);
  EXPECT_EQ(result.spec->name, "app");
  EXPECT_EQ(result.spec->gateway.listen, "127.0.0.1:8080");
  EXPECT_EQ(result.spec->mesh.listen, "127.0.0.1:7701");
}

TEST(AppFile, UnknownKeyWithDidYouMean) {
  ExpectError("services:\n  a:\n    command: [a]\n    replcas: 2\n", 4, 5,
              "services.a.replcas: unknown key; did you mean \"replicas\"?");
}

TEST(AppFile, UnknownKeyWithoutCloseMatch) {
  AppFileResult result = Parse("services:\n  a: { command: [a] }\nzebra: 1\n");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].ToString(), "app.yaml:3:1: zebra: unknown key");
}

TEST(AppFile, WrongType) {
  ExpectError("services:\n  a:\n    command: [a]\n    replicas: three\n", 4, 15,
              "expected an integer, got \"three\"");
}

TEST(AppFile, CommandMustBeAList) {
  ExpectError("services:\n  a:\n    command: ./bin/a --x\n", 3, 14,
              "must be a list (argv, no shell)");
}

TEST(AppFile, BadDuration) {
  ExpectError("services:\n  a:\n    command: [a]\n    stop_grace: 10 seconds\n", 4, 17,
              "bad duration \"10 seconds\"");
}

TEST(AppFile, BadSize) {
  ExpectError("services:\n  a:\n    command: [a]\n    resources: { memory: 256MB }\n", 4, 26,
              "bad size \"256MB\"");
  ExpectError("services:\n  a:\n    command: [a]\n    resources: { cpus: 0 }\n", 4, 24, "above 0");
  AppFileResult ok =
      Parse("services:\n  a:\n    command: [a]\n    resources: { cpus: 0.5, memory: 256M }\n");
  ASSERT_TRUE(ok.spec);
  EXPECT_EQ(ok.spec->services[0].resources, (ResourcesSpec{0.5, 256ull * 1024 * 1024}));
}

TEST(AppFile, DuplicateService) {
  ExpectError("services:\n  a: { command: [a] }\n  b: { command: [b] }\n  a: { command: [c] }\n", 4,
              3, "duplicate service \"a\" (first defined at 2:3)");
}

TEST(AppFile, DuplicateKey) {
  ExpectError("services:\n  a:\n    command: [a]\n    replicas: 1\n    replicas: 2\n", 5, 5,
              "duplicate key \"replicas\" (first at 4:5)");
}

TEST(AppFile, NegativeReplicas) {
  ExpectError("services:\n  a:\n    command: [a]\n    replicas: -2\n", 4, 15,
              "must not be negative");
}

TEST(AppFile, DependsOnMissingService) {
  ExpectError(
      "services:\n  web:\n    command: [w]\n    depends_on: [db, api]\n  api: { command: [a] }\n",
      4, 18, "services.web.depends_on: no service named \"db\"");
}

TEST(AppFile, RouteToMissingServiceWithDidYouMean) {
  ExpectError(
      "services:\n  hello: { command: [h] }\ngateway:\n  routes:\n    - { path: /, service: helo "
      "}\n",
      5, 27, "no service named \"helo\"; did you mean \"hello\"?");
}

// Every error in one go: a shape error does not hide a reference to a missing service.
TEST(AppFile, ReferenceErrorsComeWithShapeErrors) {
  AppFileResult result = Parse(
      "services:\n  hello: { command: [h], replicas: many, depends_on: [nope] }\n"
      "gateway:\n  routes:\n    - { path: /, service: helo }\n");
  ASSERT_FALSE(result.spec.has_value());
  ASSERT_EQ(result.errors.size(), 3u);
  EXPECT_NE(result.errors[0].message.find("replicas"), std::string::npos);
  EXPECT_NE(result.errors[1].message.find("no service named \"nope\""), std::string::npos);
  EXPECT_NE(result.errors[2].message.find("no service named \"helo\""), std::string::npos);
}

TEST(AppFile, DependencyCycle) {
  ExpectError(
      "services:\n  a: { command: [a], depends_on: [b] }\n  b: { command: [b], depends_on: [c] }\n"
      "  c: { command: [c], depends_on: [a] }\n",
      2, 3, "dependency cycle: a -> b -> c -> a");
}

TEST(AppFile, SelfDependency) {
  ExpectError("services:\n  a: { command: [a], depends_on: [a] }\n", 2, 3,
              "dependency cycle: a -> a");
}

TEST(AppFile, NotSupportedYetIsAnErrorNotIgnored) {
  ExpectError("services:\n  a: { command: [a] }\ngateway:\n  jwt: { issuer: x }\n", 4, 3,
              "gateway.jwt: not supported yet");
  ExpectError(
      "services:\n  a: { command: [a] }\ngateway:\n  routes:\n    - { path: /, service: a, "
      "auth: jwt }\n",
      5, 30, "auth: not supported yet");
  ExpectError("services:\n  a:\n    command: [a]\n    protocol: tcp\n", 4, 15, "not supported yet");
}

TEST(AppFile, PolicyBlock) {
  AppFileResult result = Parse(R"(services:
  a:
    command: [a]
    policy:
      lb: peak_ewma
      timeout: 2s
      retries: { attempts: 2, on: [connect-failure, reset, "503", 5xx], per_try_timeout: 500ms,
                 budget: 0.3, min_retries: 5, backoff: 10ms, max_backoff: 1s,
                 non_idempotent: true }
      circuit_breaker: { max_connections: 10, max_pending: 20, max_requests: 30 }
      outlier: { consecutive_5xx: 4, consecutive_gateway_errors: 2, base_ejection: 10s,
                 max_ejection_percent: 50% }
      panic_threshold: 25%
      slow_start: 30s
gateway:
  routes:
    - { path: /, service: a, methods: [GET, POST], rate_limit: { rps: 10, by: "header:x-key" } }
)");
  ASSERT_TRUE(result.errors.empty()) << result.errors[0].ToString();
  const PolicySpec& p = result.spec->services[0].policy;
  EXPECT_EQ(p.lb.policy, LbSpec::Policy::kPeakEwma);
  EXPECT_EQ(p.timeout, Duration(2000));
  EXPECT_EQ(p.retries.attempts, 2);
  EXPECT_TRUE(p.retries.on_connect_failure && p.retries.on_reset && p.retries.on_5xx);
  EXPECT_FALSE(p.retries.on_gateway_error);
  EXPECT_EQ(p.retries.on_status, std::vector<int>{503});
  EXPECT_EQ(p.retries.per_try_timeout, Duration(500));
  EXPECT_DOUBLE_EQ(p.retries.budget, 0.3);
  EXPECT_EQ(p.retries.min_retries, 5);
  EXPECT_EQ(p.retries.backoff, Duration(10));
  EXPECT_EQ(p.retries.max_backoff, Duration(1000));
  EXPECT_TRUE(p.retries.non_idempotent);
  EXPECT_EQ(p.circuit_breaker.max_pending, 20);
  EXPECT_TRUE(p.outlier.enabled);
  EXPECT_EQ(p.outlier.consecutive_gateway_errors, 2);
  EXPECT_EQ(p.outlier.max_ejection_percent, 50);
  EXPECT_EQ(p.panic_threshold, 25);
  EXPECT_EQ(p.slow_start, Duration(30'000));
  const RouteSpec& route = result.spec->gateway.routes[0];
  EXPECT_EQ(route.methods, (std::vector<std::string>{"GET", "POST"}));
  EXPECT_EQ(route.rate_limit.rps, 10);
  EXPECT_EQ(route.rate_limit.burst, 10);
  EXPECT_EQ(route.rate_limit.by, RateLimitSpec::By::kHeader);
  EXPECT_EQ(route.rate_limit.header, "x-key");
}

TEST(AppFile, GrpcServicesAndGrpcRetryCodes) {
  AppFileResult result = Parse(R"(services:
  a:
    command: [a]
    protocol: grpc
    policy: { retries: { on: [unavailable, resource-exhausted, connect-failure] } }
  b: { command: [b], protocol: http }
)");
  ASSERT_TRUE(result.errors.empty()) << result.errors[0].ToString();
  EXPECT_EQ(result.spec->services[0].protocol, ServiceSpec::Protocol::kGrpc);
  EXPECT_EQ(result.spec->services[1].protocol, ServiceSpec::Protocol::kHttp);
  const RetrySpec& retries = result.spec->services[0].policy.retries;
  EXPECT_EQ(retries.on_grpc_status, (std::vector<int>{14, 8}));
  EXPECT_TRUE(retries.on_connect_failure);
  EXPECT_FALSE(retries.on_5xx);
}

TEST(AppFile, GatewayTlsTakesOneCertificateOrAList) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "gantry-tls-config-test";
  std::filesystem::create_directories(dir / "certs");
  for (const char* name : {"a.pem", "a.key", "b.pem", "b.key"}) {
    std::ofstream(dir / "certs" / name) << "x";
  }
  AppFileResult one = ParseAppFile(
      "services:\n  a: { command: [a] }\ngateway:\n  tls: { cert: certs/a.pem, key: certs/a.key "
      "}\n",
      "gantry.yaml", dir);
  ASSERT_TRUE(one.errors.empty()) << one.errors[0].ToString();
  ASSERT_EQ(one.spec->gateway.tls.size(), 1u);
  EXPECT_EQ(one.spec->gateway.tls[0].cert, dir / "certs/a.pem");
  EXPECT_EQ(one.spec->gateway.tls[0].key, dir / "certs/a.key");
  AppFileResult two = ParseAppFile(
      "services:\n  a: { command: [a] }\ngateway:\n  tls:\n"
      "    - { cert: certs/a.pem, key: certs/a.key }\n    - { cert: certs/b.pem, key: certs/b.key "
      "}\n",
      "gantry.yaml", dir);
  ASSERT_TRUE(two.errors.empty()) << two.errors[0].ToString();
  EXPECT_EQ(two.spec->gateway.tls.size(), 2u);
  AppFileResult missing = ParseAppFile(
      "services:\n  a: { command: [a] }\ngateway:\n  tls: { cert: certs/none.pem, key: certs/a.key "
      "}\n",
      "gantry.yaml", dir);
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(missing.errors[0].line, 4);
  EXPECT_EQ(missing.errors[0].column, 16);
  EXPECT_NE(missing.errors[0].message.find("no such file"), std::string::npos);
  AppFileResult no_key =
      ParseAppFile("services:\n  a: { command: [a] }\ngateway:\n  tls: { cert: certs/a.pem }\n",
                   "gantry.yaml", dir);
  ASSERT_EQ(no_key.errors.size(), 1u);
  EXPECT_NE(no_key.errors[0].message.find("needs key"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(AppFile, Subscriptions) {
  AppFileResult result = Parse(R"(services:
  a:
    command: [a]
    subscribe:
      - { topic: order.created, path: /events/order-created }
      - { topic: steps, path: /steps, dead_letter: steps.bad, max_deliver: 2, ordered: true }
)");
  ASSERT_TRUE(result.errors.empty()) << result.errors[0].ToString();
  const auto& subs = result.spec->services[0].subscribe;
  ASSERT_EQ(subs.size(), 2u);
  EXPECT_EQ(subs[0].topic, "order.created");
  EXPECT_EQ(subs[0].dead_letter, "order.created.dlq");
  EXPECT_EQ(subs[0].max_deliver, 5);
  EXPECT_FALSE(subs[0].ordered);
  EXPECT_EQ(subs[1].dead_letter, "steps.bad");
  EXPECT_EQ(subs[1].max_deliver, 2);
  EXPECT_TRUE(subs[1].ordered);
  ExpectError("services:\n  a:\n    command: [a]\n    subscribe: [{ topic: t }]\n", 4, 17,
              "needs a path");
  ExpectError("services:\n  a:\n    command: [a]\n    subscribe: [{ topic: 'a b', path: /x }]\n", 4,
              26, "a topic is 1 to 200");
}

TEST(AppFile, PolicyDefaults) {
  AppFileResult result = Parse("services:\n  a: { command: [a] }\n");
  const PolicySpec& p = result.spec->services[0].policy;
  EXPECT_EQ(p.timeout, Duration(15'000));
  EXPECT_EQ(p.retries.attempts, 1);
  EXPECT_TRUE(p.retries.on_connect_failure);
  EXPECT_TRUE(p.retries.on_reset);  // idempotent methods only (RetryPolicy)
  EXPECT_DOUBLE_EQ(p.retries.budget, 0.2);
  EXPECT_EQ(p.retries.min_retries, 3);
  EXPECT_EQ(p.circuit_breaker.max_requests, 1024);
  EXPECT_FALSE(p.outlier.enabled);
  EXPECT_EQ(p.panic_threshold, 50);
}

TEST(AppFile, BadPolicyValuesNameTheirPlace) {
  ExpectError("services:\n  a:\n    command: [a]\n    policy: { retries: { on: [boom] } }\n", 4, 31,
              "\"boom\" is not one of connect-failure");
  ExpectError("services:\n  a:\n    command: [a]\n    policy: { retries: { budget: 2 } }\n", 4, 34,
              "from 0 to 1");
  ExpectError("services:\n  a:\n    command: [a]\n    policy: { panic_threshold: 120% }\n", 4, 32,
              "percentage from 0 to 100");
  ExpectError(
      "services:\n  a:\n    command: [a]\n    policy: { circuit_breaker: { max_request: 1 } "
      "}\n",
      4, 34, "did you mean \"max_requests\"");
  ExpectError("services:\n  a:\n    command: [a]\n    policy: { lb: fastest }\n", 4, 19,
              "\"fastest\" is not one of");
  ExpectError(
      "services:\n  a: { command: [a] }\ngateway:\n  routes:\n    - { path: /, service: a, "
      "rate_limit: { burst: 5 } }\n",
      5, 30, "missing rps");
  ExpectError(
      "services:\n  a: { command: [a] }\ngateway:\n  routes:\n    - { path: /, service: a, "
      "methods: [get] }\n",
      5, 40, "\"get\" is not a method name");
}

TEST(AppFile, UpdateBlock) {
  AppFileResult result = Parse(
      "services:\n  a:\n    command: [a]\n    update: { max_surge: 0, max_unavailable: 2 }\n");
  ASSERT_TRUE(result.spec) << result.errors[0].ToString();
  EXPECT_EQ(result.spec->services[0].update.max_surge, 0);
  EXPECT_EQ(result.spec->services[0].update.max_unavailable, 2);
  AppFileResult defaults = Parse("services:\n  a: { command: [a] }\n");
  EXPECT_EQ(defaults.spec->services[0].update, (UpdateSpec{1, 0}));
  ExpectError(
      "services:\n  a:\n    command: [a]\n    update: { max_surge: 0, max_unavailable: 0 }\n", 4, 5,
      "cannot both be 0");
  ExpectError("services:\n  a:\n    command: [a]\n    update: { max_surge: -1 }\n", 4, 26,
              "from 0 to 100");
}

TEST(AppFile, AutoscaleBlock) {
  AppFileResult result = Parse(
      "services:\n  a:\n    command: [a]\n    autoscale: { min: 2, max: 6, target_rps: 500, "
      "target_cpu: 0.7, down_window: 2m }\n");
  ASSERT_TRUE(result.spec) << result.errors[0].ToString();
  const ServiceSpec& a = result.spec->services[0];
  EXPECT_TRUE(a.autoscale.enabled);
  EXPECT_EQ(a.autoscale.max, 6);
  EXPECT_DOUBLE_EQ(a.autoscale.target_cpu, 0.7);
  EXPECT_EQ(a.autoscale.down_window, Duration(120'000));
  EXPECT_EQ(a.replicas, 2);  // starts at min
  ExpectError(
      "services:\n  a:\n    command: [a]\n    autoscale: { min: 3, max: 2, target_rps: 1 }\n", 4, 5,
      "max must not be below min");
  ExpectError("services:\n  a:\n    command: [a]\n    autoscale: { min: 1, max: 2 }\n", 4, 5,
              "give target_rps, target_cpu or both");
  ExpectError(
      "services:\n  a:\n    command: [a]\n    autoscale: { min: 1, max: 2, target_cpu: 2 "
      "}\n",
      4, 46, "at most 1");
}

TEST(AppFile, BadChoiceSuggests) {
  ExpectError("services:\n  a:\n    command: [a]\n    restart: alway\n", 4, 14,
              "\"alway\" is not one of always, on-failure, never; did you mean \"always\"?");
}

TEST(AppFile, RouteHostMustBeAPlainLowercaseName) {
  ExpectError(
      "services:\n  a: { command: [a] }\ngateway:\n  routes:\n    - { host: Shop.Example, service: "
      "a }\n",
      5, 15, "\"Shop.Example\" is not a host name");
  ExpectError(
      "services:\n  a: { command: [a] }\ngateway:\n  routes:\n    - { host: a.example:8080, "
      "service: a }\n",
      5, 15, "without a port");
}

TEST(AppFile, DefaultNameIsTheFolderEvenWhenGivenAsDot) {
  AppFileResult result = ParseAppFile("services:\n  a: { command: [a] }\n", "gantry.yaml", ".");
  ASSERT_TRUE(result.spec);
  EXPECT_EQ(result.spec->name, std::filesystem::current_path().filename().string());
}

TEST(AppFile, BadListenAddress) {
  ExpectError("services:\n  a: { command: [a] }\ngateway:\n  listen: 8080\n", 4, 11,
              "bad address \"8080\"");
}

TEST(AppFile, InvalidYaml) {
  AppFileResult result = Parse("services:\n  a: { command: [a }\n");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].line, 2);
  EXPECT_NE(result.errors[0].message.find("invalid YAML"), std::string::npos);
}

TEST(AppFile, EmptyFileAndMissingServices) {
  ExpectError("", 1, 1, "the app file is empty");
  ExpectError("name: x\n", 1, 1, "missing services");
}

TEST(AppFile, ReportsEveryErrorInFileOrder) {
  AppFileResult result = Parse(
      "services:\n  a:\n    replicas: x\n    comand: [a]\n  b: { command: [b], depends_on: [z] "
      "}\n");
  ASSERT_EQ(result.errors.size(), 4u);
  EXPECT_EQ(result.errors[0].line, 2);  // missing command, at the service
  EXPECT_EQ(result.errors[1].line, 3);  // replicas
  EXPECT_EQ(result.errors[2].line, 4);  // comand: did you mean command
  EXPECT_NE(result.errors[2].message.find("did you mean \"command\""), std::string::npos);
  EXPECT_EQ(result.errors[3].line, 5);  // depends_on names no service
  EXPECT_NE(result.errors[3].message.find("no service named \"z\""), std::string::npos);
}

TEST(AppFile, MissingFile) {
  AppFileResult result = LoadAppFile("/nonexistent/gantry.yaml");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].ToString(), "/nonexistent/gantry.yaml: cannot read the app file");
}

}  // namespace
}  // namespace gantry::config

namespace gantry::config {
namespace {

TEST(AppFile, GrpcCheckOfTheServerOrOneService) {
  AppFileResult whole = Parse("services:\n  a:\n    command: [a]\n    health: { grpc: true }\n");
  ASSERT_TRUE(whole.spec);
  EXPECT_EQ(whole.spec->services[0].health.kind, HealthSpec::Kind::kGrpc);
  EXPECT_EQ(whole.spec->services[0].health.grpc_service, "");
  AppFileResult one = Parse("services:\n  a:\n    command: [a]\n    health: { grpc: orders }\n");
  ASSERT_TRUE(one.spec);
  EXPECT_EQ(one.spec->services[0].health.grpc_service, "orders");
}

TEST(AppFile, LoadBalancingPolicyAndHashKey) {
  AppFileResult result = Parse(
      "services:\n  a:\n    command: [a]\n    policy: { lb: ring_hash, hash_on: header:x-user }\n");
  ASSERT_TRUE(result.spec);
  const LbSpec& lb = result.spec->services[0].policy.lb;
  EXPECT_EQ(lb.policy, LbSpec::Policy::kRingHash);
  EXPECT_EQ(lb.hash_on, LbSpec::HashOn::kHeader);
  EXPECT_EQ(lb.hash_name, "x-user");
  ExpectError("services:\n  a:\n    command: [a]\n    policy: { lb: maglev, hash_on: body }\n", 4,
              36, "expected header:NAME, cookie:NAME, path or client_ip");
  ExpectError("services:\n  a:\n    command: [a]\n    policy: { lb: random, hash_on: path }\n", 4,
              27, "only ring_hash and maglev hash requests");
}

TEST(AppFile, TtlCheck) {
  AppFileResult result = Parse("services:\n  a:\n    command: [a]\n    health: { ttl: 15s }\n");
  ASSERT_TRUE(result.spec) << result.errors.size() << " errors";
  EXPECT_EQ(result.spec->services[0].health.kind, HealthSpec::Kind::kTtl);
  EXPECT_EQ(result.spec->services[0].health.ttl, Duration(15000));
}

TEST(AppFile, OneCheckKindOnlyAndTtlInRange) {
  ExpectError("services:\n  a:\n    command: [a]\n    health: { http: /h, ttl: 5s }\n", 4, 25,
              "services.a.health: give one of http, tcp, grpc or ttl");
  ExpectError("services:\n  a:\n    command: [a]\n    health: { ttl: 100ms }\n", 4, 20,
              "services.a.health.ttl: must be from 1s to 24h");
}

}  // namespace
}  // namespace gantry::config
