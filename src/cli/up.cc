// gantry up [-d] and gantry validate: read the app file, then run it (in the foreground, or
// detached with -d).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "agent/agent.h"
#include "agent/state_dir.h"
#include "cli/commands.h"
#include "config/app_file.h"
#include "core/status.h"
#include "orchestrator/proc_stats.h"

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

// `up -d`: the agent runs on in a new session, its output in <state dir>/agent.log; this
// process returns once the agent's API is up (or says why it is not).
int RunDetached(const config::AppSpec& spec, const agent::AgentOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.state_dir, ec);
  std::filesystem::path log = options.state_dir / "agent.log";
  if (auto existing = agent::ReadAgentFile(options.state_dir);
      existing.ok() && orchestrator::ProcessRuns(existing->pid)) {
    std::fprintf(stderr, "gantry up: an agent (pid %d) already runs from %s\n", existing->pid,
                 options.state_dir.c_str());
    return 1;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    std::fprintf(stderr, "gantry up: fork: %s\n", std::strerror(errno));
    return 1;
  }
  if (pid == 0) {
    ::setsid();
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int in = ::open("/dev/null", O_RDONLY);
    if (out >= 0) {
      ::dup2(out, STDOUT_FILENO);
      ::dup2(out, STDERR_FILENO);
    }
    if (in >= 0) ::dup2(in, STDIN_FILENO);
    std::_Exit(agent::RunAgent(spec, options));
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    auto file = agent::ReadAgentFile(options.state_dir);
    if (file.ok() && file->pid == pid) {
      std::printf(
          "gantry: app \"%s\" runs in the background (pid %d, api http://%s); its output "
          "is in %s; gantry down stops it\n",
          spec.name.c_str(), pid, file->api.ToString().c_str(), log.c_str());
      return 0;
    }
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      std::fprintf(stderr, "gantry up: the agent stopped at once; see %s\n", log.c_str());
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::fprintf(stderr, "gantry up: the agent did not start within 30s; see %s\n", log.c_str());
  return 1;
}

}  // namespace

int Validate(const std::filesystem::path& file) {
  if (!LoadOrReport(file)) return 1;
  std::puts("ok");
  return 0;
}

int Up(const UpFlags& flags) {
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
  options.tracing = !flags.no_tracing;
  options.trace_sample_rate = flags.trace_sample_rate;
  options.otlp_endpoint = flags.otlp_endpoint;
  options.detached = flags.detach;
  if (flags.detach) return RunDetached(*spec, options);
  return agent::RunAgent(*spec, options);
}

}  // namespace gantry::cli
