#include "registry/health_checker.h"

#include <algorithm>

#include "http/client.h"
#include "net/asio.h"

namespace gantry::registry {

struct HealthChecker::Check {
  Check(net::asio::io_context& io, std::string id, config::HealthSpec spec)
      : id(std::move(id)),
        spec(std::move(spec)),
        state(this->spec.healthy_after, this->spec.unhealthy_after),
        timer(io) {}
  std::string id;
  config::HealthSpec spec;
  HealthState state;
  net::asio::steady_timer timer;
  bool ever_passed = false;
  bool stopped = false;
};

namespace {
constexpr Duration kStartupProbeInterval{100};
}

HealthChecker::HealthChecker(net::asio::io_context& io, Clock& clock, Registry& registry)
    : io_(io), clock_(clock), registry_(registry) {}

HealthChecker::~HealthChecker() {
  for (auto& [id, check] : checks_) check->stopped = true;
}

void HealthChecker::Watch(const std::string& instance_id, const config::HealthSpec& spec) {
  Unwatch(instance_id);
  if (spec.kind == config::HealthSpec::Kind::kNone) {
    registry_.SetHealth(instance_id, Health::kHealthy, "no health check: healthy while running",
                        clock_.Now());
    return;
  }
  auto check = std::make_shared<Check>(io_, instance_id, spec);
  checks_[instance_id] = check;
  Probe(check);  // the first probe goes out at once
}

void HealthChecker::Unwatch(const std::string& instance_id) {
  auto it = checks_.find(instance_id);
  if (it == checks_.end()) return;
  it->second->stopped = true;
  it->second->timer.cancel();
  checks_.erase(it);
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
  const Instance* instance = registry_.Find(check->id);
  if (!instance) return;
  auto done = [this, check](http::ProbeResult result) {
    if (check->stopped) return;
    OnResult(check, result.healthy, std::move(result.output));
  };
  if (check->spec.kind == config::HealthSpec::Kind::kHttp) {
    http::ProbeHttp(io_, instance->address, check->spec.http_path, check->spec.timeout, done);
  } else {
    http::ProbeTcp(io_, instance->address, check->spec.timeout, done);
  }
}

void HealthChecker::OnResult(const std::shared_ptr<Check>& check, bool passed, std::string output) {
  check->ever_passed = check->ever_passed || passed;
  check->state.Record(passed, clock_.Now());
  registry_.SetHealth(check->id, check->state.health(), std::move(output), clock_.Now());
  Schedule(check);
}

}  // namespace gantry::registry
