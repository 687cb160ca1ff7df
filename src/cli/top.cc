// gantry top: a live view per service, refreshed every --interval (1 s): requests per second,
// error rate, p50 and p99 over the interval, replicas, CPU and memory. Reads
// /api/v1/proxy/stats and /api/v1/replicas; the figures are cli/top_model.h's. On a terminal
// each refresh redraws the screen; otherwise (a pipe) the tables follow one another.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include <boost/json.hpp>

#include "cli/agent_client.h"
#include "cli/commands.h"
#include "cli/top_model.h"
#include "core/status.h"

namespace gantry::cli {

namespace json = boost::json;

namespace {

uint64_t Number(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_number() ? v->to_number<uint64_t>() : 0;
}

absl::StatusOr<TopSample> ReadSample(const AgentLocator& locator) {
  GANTRY_ASSIGN_OR_RETURN(std::string stats, GetFromAgent(locator, "/api/v1/proxy/stats"));
  GANTRY_ASSIGN_OR_RETURN(std::string replicas, GetFromAgent(locator, "/api/v1/replicas"));
  TopSample sample;
  sample.at_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  boost::system::error_code ec;
  json::value parsed = json::parse(stats, ec);
  if (ec || !parsed.is_object()) return absl::DataLossError("the agent's stats are not JSON");
  const json::object& root = parsed.as_object();
  if (const json::value* bounds = root.if_contains("latency_bounds_us");
      bounds && bounds->is_array()) {
    for (const json::value& b : bounds->as_array())
      sample.latency_bounds_us.push_back(b.to_number<uint64_t>());
  }
  if (const json::value* services = root.if_contains("services");
      services && services->is_object()) {
    for (const auto& [name, value] : services->as_object()) {
      if (!value.is_object()) continue;
      const json::object& s = value.as_object();
      ServiceSample& out = sample.services[std::string(name)];
      out.requests = Number(s, "requests");
      if (const json::value* r = s.if_contains("responses"); r && r->is_object()) {
        out.errors = Number(r->as_object(), "5xx") + Number(r->as_object(), "none");
      }
      if (const json::value* b = s.if_contains("latency_buckets"); b && b->is_array()) {
        for (const json::value& n : b->as_array())
          out.latency_buckets.push_back(n.to_number<uint64_t>());
      }
    }
  }
  json::value rows = json::parse(replicas, ec);
  if (ec || !rows.is_array()) return absl::DataLossError("the agent's replicas are not JSON");
  for (const json::value& value : rows.as_array()) {
    if (!value.is_object()) continue;
    const json::object& row = value.as_object();
    const json::value* service = row.if_contains("service");
    const json::value* state = row.if_contains("state");
    if (!service || !service->is_string() || !state || !state->is_string() ||
        state->as_string() != "running") {
      continue;
    }
    ServiceSample& out = sample.services[std::string(service->as_string())];
    ++out.replicas;
    if (const json::value* c = row.if_contains("cpu_seconds"); c && c->is_number()) {
      out.cpu_seconds += c->to_number<double>();
    }
    out.memory_bytes += Number(row, "memory_bytes");
  }
  return sample;
}

}  // namespace

int Top(const TopFlags& flags) {
  auto interval = ParseDuration(flags.interval);
  if (!interval.ok() || interval->count() < 100) {
    std::fprintf(stderr, "gantry top: --interval must be a duration of 100ms or more\n");
    return 2;
  }
  bool terminal = ::isatty(STDOUT_FILENO) == 1;
  auto before = ReadSample(flags.locator);
  for (int64_t shown = 0; flags.iterations == 0 || shown < flags.iterations; ++shown) {
    if (!before.ok()) {
      std::fprintf(stderr, "gantry top: %s\n", std::string(StatusMessage(before.status())).c_str());
      return 1;
    }
    std::this_thread::sleep_for(*interval);
    auto after = ReadSample(flags.locator);
    if (!after.ok()) {
      std::fprintf(stderr, "gantry top: %s\n", std::string(StatusMessage(after.status())).c_str());
      return 1;
    }
    std::string table = FormatTop(ComputeTop(*before, *after));
    if (terminal) {
      std::fputs("\x1b[H\x1b[2J", stdout);  // home, clear
    } else if (shown > 0) {
      std::fputc('\n', stdout);
    }
    std::fputs(table.c_str(), stdout);
    std::fflush(stdout);
    before = std::move(after);
  }
  return 0;
}

}  // namespace gantry::cli
