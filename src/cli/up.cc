// gantry up and gantry validate: read the app file, then run it in the foreground.
#include <cstdio>
#include <thread>

#include "agent/agent.h"
#include "agent/state_dir.h"
#include "cli/commands.h"
#include "config/app_file.h"
#include "core/status.h"

namespace gantry::cli {
namespace {

// Prints every error; returns the spec when there was none.
std::optional<config::AppSpec> LoadOrReport(const std::filesystem::path& file) {
  config::AppFileResult result = config::LoadAppFile(file);
  for (const auto& error : result.errors) std::fprintf(stderr, "%s\n", error.ToString().c_str());
  return std::move(result.spec);
}

bool ParseAddressFlag(const char* name, const std::string& text, std::optional<HostPort>& out) {
  if (text.empty()) return true;
  auto parsed = ParseHostPort(text);
  if (!parsed.ok()) {
    std::fprintf(stderr, "gantry up: --%s: %s\n", name,
                 std::string(StatusMessage(parsed.status())).c_str());
    return false;
  }
  out = *parsed;
  return true;
}

}  // namespace

int Validate(const std::filesystem::path& file) {
  if (!LoadOrReport(file)) return 1;
  std::puts("ok");
  return 0;
}

int Up(const UpFlags& flags) {
  if (flags.detach) {
    std::fprintf(stderr, "gantry up: -d (detached) is not supported yet; run in the foreground\n");
    return 2;
  }
  std::optional<config::AppSpec> spec = LoadOrReport(flags.file);
  if (!spec) return 1;
  agent::AgentOptions options;
  if (!ParseAddressFlag("api", flags.api, options.api) ||
      !ParseAddressFlag("gateway", flags.gateway, options.gateway) ||
      !ParseAddressFlag("mesh", flags.mesh, options.mesh)) {
    return 2;
  }
  options.state_dir =
      flags.state_dir.empty() ? agent::DefaultStateDir(flags.file) : flags.state_dir;
  options.workers = flags.workers > 0
                        ? flags.workers
                        : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  options.max_connections = flags.max_connections;
  options.access_log = flags.access_log;
  return agent::RunAgent(*spec, options);
}

}  // namespace gantry::cli
