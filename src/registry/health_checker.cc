#include "registry/health_checker.h"

#include <algorithm>

#include <fmt/format.h>

#include "http/client.h"
#include "http/grpc_probe.h"
#include "net/asio.h"

namespace gantry::registry {

struct HealthChecker::Check {
  Check(net::asio::io_context& io, std::string id, HostPort address, config::HealthSpec spec)
      : id(std::move(id)),
        address(std::move(address)),
        spec(std::move(spec)),
        state(this->spec.healthy_after, this->spec.unhealthy_after),
        timer(io) {}
  std::string id;
  HostPort address;
  config::HealthSpec spec;
  HealthState state;
  net::asio::steady_timer timer;
  bool ever_passed = false;
  bool stopped = false;
  Health reported = Health::kUnknown;
  std::string reported_output;
};

namespace {
constexpr Duration kStartupProbeInterval{100};
}

HealthChecker::HealthChecker(net::asio::io_context& io, Clock& clock, OnChange on_change)
    : io_(io), clock_(clock), on_change_(std::move(on_change)) {}

HealthChecker::~HealthChecker() {
  for (auto& [id, check] : checks_) check->stopped = true;
}

void HealthChecker::Watch(const std::string& id, const HostPort& address,
                          const config::HealthSpec& spec) {
  Unwatch(id);
  auto check = std::make_shared<Check>(io_, id, address, spec);
  checks_[id] = check;
  switch (spec.kind) {
    case config::HealthSpec::Kind::kNone:
      Report(*check, Health::kHealthy, "no health check: healthy while running");
      break;
    case config::HealthSpec::Kind::kTtl:
      Report(*check, Health::kUnknown,
             fmt::format("waiting for a heartbeat (ttl {})", FormatDuration(spec.ttl)));
      ArmTtl(check);
      break;
    default:
      Probe(check);  // the first probe goes out at once
  }
}

void HealthChecker::Unwatch(const std::string& id) {
  auto it = checks_.find(id);
  if (it == checks_.end()) return;
  it->second->stopped = true;
  it->second->timer.cancel();
  checks_.erase(it);
}

absl::Status HealthChecker::Heartbeat(const std::string& id, bool passed, std::string output) {
  auto it = checks_.find(id);
  if (it == checks_.end()) return absl::NotFoundError(fmt::format("no instance {}", id));
  const auto& check = it->second;
  if (check->spec.kind != config::HealthSpec::Kind::kTtl) {
    return absl::FailedPreconditionError(fmt::format("instance {} has no ttl check", id));
  }
  if (output.empty()) output = passed ? "heartbeat: passing" : "heartbeat: failing";
  Report(*check, passed ? Health::kHealthy : Health::kUnhealthy, output);
  ArmTtl(check);
  return absl::OkStatus();
}

void HealthChecker::ArmTtl(const std::shared_ptr<Check>& check) {
  check->timer.expires_after(check->spec.ttl);
  check->timer.async_wait([this, check](const boost::system::error_code& ec) {
    if (ec || check->stopped) return;
    Report(*check, Health::kUnhealthy,
           fmt::format("no heartbeat within the ttl of {}", FormatDuration(check->spec.ttl)));
  });
}

void HealthChecker::Schedule(const std::shared_ptr<Check>& check) {
  Duration delay = check->ever_passed ? check->spec.interval
                                      : std::min(check->spec.interval, kStartupProbeInterval);
  check->timer.expires_after(delay);
  check->timer.async_wait([this, check](const boost::system::error_code& ec) {
    if (ec || check->stopped) return;
    Probe(check);
  });
}

void HealthChecker::Probe(const std::shared_ptr<Check>& check) {
  auto done = [this, check](const http::ProbeResult& result) {
    if (check->stopped) return;
    OnResult(check, result.healthy, result.output);
  };
  if (check->spec.kind == config::HealthSpec::Kind::kHttp) {
    http::ProbeHttp(io_, check->address, check->spec.http_path, check->spec.timeout, done);
  } else if (check->spec.kind == config::HealthSpec::Kind::kGrpc) {
    http::ProbeGrpc(io_, check->address, check->spec.grpc_service, check->spec.timeout, done);
  } else {
    http::ProbeTcp(io_, check->address, check->spec.timeout, done);
  }
}

void HealthChecker::OnResult(const std::shared_ptr<Check>& check, bool passed,
                             const std::string& output) {
  check->ever_passed = check->ever_passed || passed;
  check->state.Record(passed, clock_.Now());
  Report(*check, check->state.health(), output);
  Schedule(check);
}

void HealthChecker::Report(Check& check, Health health, const std::string& output) {
  if (health == check.reported && output == check.reported_output) return;
  check.reported = health;
  check.reported_output = output;
  on_change_(check.id, health, output);
}

}  // namespace gantry::registry
