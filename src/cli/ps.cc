// gantry ps: the replicas table.
#include <cstdio>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "cli/agent_client.h"
#include "cli/commands.h"
#include "core/duration.h"
#include "core/size.h"
#include "core/status.h"

namespace gantry::cli {
namespace json = boost::json;

namespace {
// One line of the table: the header and every replica share the columns.
constexpr std::string_view kRow =
    "{:<18} {:<12} {:>7}  {:<21} {:<9} {:<10} {:>8}  {:>8}  {:>7}  {:>7}  {}\n";

std::string Text(const json::object& row, const char* key) {
  const json::value* v = row.if_contains(key);
  if (!v) return "-";
  if (v->is_string()) return v->as_string().empty() ? "-" : std::string(v->as_string());
  if (v->is_int64()) return std::to_string(v->as_int64());
  if (v->is_double()) return fmt::format("{:.1f}", v->as_double());
  return "-";
}
// The check's last output and how long ago the health last changed: "HTTP 200 (2m ago)".
std::string Check(const json::object& row) {
  std::string out = Text(row, "check");
  const json::value* changed = row.if_contains("check_changed_at");
  if (changed && changed->is_double()) {
    double now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    auto ago =
        std::chrono::seconds(static_cast<int64_t>(std::max(0.0, now - changed->as_double())));
    out += fmt::format(" (since {} ago)", FormatDuration(ago));
  }
  return out;
}
}  // namespace

int Ps(const AgentLocator& locator, const std::string& service, const std::string& output) {
  if (output != "table" && output != "json") {
    std::fprintf(stderr, "gantry ps: -o must be table or json\n");
    return 2;
  }
  std::string path = "/api/v1/replicas";
  if (!service.empty()) path += "?service=" + service;
  auto body = GetFromAgent(locator, path);
  if (!body.ok()) {
    std::fprintf(stderr, "gantry ps: %s\n", std::string(StatusMessage(body.status())).c_str());
    return 1;
  }
  boost::system::error_code ec;
  json::value rows = json::parse(*body, ec);
  if (ec || !rows.is_array()) {
    std::fprintf(stderr, "gantry ps: the agent's answer is not a JSON list of replicas\n");
    return 1;
  }
  if (output == "json") {
    std::puts(json::serialize(rows).c_str());
    return 0;
  }
  std::string table = fmt::format(kRow, "ID", "SERVICE", "PID", "ADDRESS", "STATE", "HEALTH",
                                  "RESTARTS", "UPTIME", "CPU", "MEMORY", "CHECK");
  for (const auto& value : rows.as_array()) {
    if (!value.is_object()) continue;
    const json::object& row = value.as_object();
    std::string uptime = "-", cpu = "-", memory = "-";
    if (const auto* u = row.if_contains("uptime_seconds");
        u && u->is_double() && u->as_double() > 0) {
      uptime = FormatDuration(std::chrono::seconds(static_cast<int64_t>(u->as_double())));
    }
    if (const auto* c = row.if_contains("cpu_seconds"); c && c->is_double())
      cpu = fmt::format("{:.2f}s", c->as_double());
    if (const auto* m = row.if_contains("memory_bytes"); m && m->is_number()) {
      memory = FormatSize(m->to_number<uint64_t>() / (1 << 20) << 20);
    }
    table +=
        fmt::format(kRow, Text(row, "id"), Text(row, "service"),
                    Text(row, "pid") == "0" ? "-" : Text(row, "pid"), Text(row, "address"),
                    Text(row, "state"), Text(row, "health"), Text(row, "restarts"), uptime, cpu,
                    memory, Text(row, "reason") != "-" ? Text(row, "reason") : Check(row));
  }
  std::fputs(table.c_str(), stdout);
  return 0;
}

}  // namespace gantry::cli
