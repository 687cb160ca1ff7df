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
#include "agent/progress.h"
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

// Prints what the detached agent writes to its log from `offset` on, until its ready banner
// has been printed (0), the agent exits (1) or `timeout` passes (1; the app keeps running).
int FollowUntilReady(const std::filesystem::path& log, off_t offset, pid_t agent,
                     std::chrono::seconds timeout) {
  int fd = ::open(log.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    std::fprintf(stderr, "gantry up: cannot read %s: %s\n", log.c_str(), std::strerror(errno));
    return 1;
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string pending;
  char buffer[16384];
  int result = -1;
  while (result < 0) {
    ssize_t n = ::pread(fd, buffer, sizeof buffer, offset);
    if (n > 0) {
      offset += n;
      pending.append(buffer, static_cast<size_t>(n));
      for (size_t end; (end = pending.find('\n')) != std::string::npos;) {
        std::string line = pending.substr(0, end);
        pending.erase(0, end + 1);
        std::printf("%s\n", line.c_str());
        if (line == agent::kDetachedReadyLine) result = 0;
      }
      std::fflush(stdout);
      continue;
    }
    int status = 0;
    if (::waitpid(agent, &status, WNOHANG) == agent) {
      std::fprintf(stderr, "gantry up: the agent stopped; see %s\n", log.c_str());
      result = 1;
    } else if (std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr,
                   "gantry up: the app is not ready after %llds; it keeps running in the "
                   "background (gantry ps shows what is not healthy, gantry down stops it)\n",
                   static_cast<long long>(timeout.count()));
      result = 1;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ::close(fd);
  return result;
}

// `up -d`: the agent runs on in a new session, its output in <state dir>/agent.log; this
// process returns once the app is ready, printing its progress (or at once with --no-wait,
// once the agent's API is up), or says why it is not.
int RunDetached(const config::AppSpec& spec, const agent::AgentOptions& options,
                const UpFlags& flags) {
  std::error_code ec;
  std::filesystem::create_directories(options.state_dir, ec);
  std::filesystem::path log = options.state_dir / "agent.log";
  if (auto existing = agent::ReadAgentFile(options.state_dir);
      existing.ok() && orchestrator::ProcessRuns(existing->pid)) {
    std::fprintf(stderr, "gantry up: an agent (pid %d) already runs from %s\n", existing->pid,
                 options.state_dir.c_str());
    return 1;
  }
  std::error_code size_ec;
  auto log_size = std::filesystem::file_size(log, size_ec);
  off_t offset = size_ec ? 0 : static_cast<off_t>(log_size);  // where this agent's lines begin
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
      std::fflush(stdout);
      if (flags.no_wait) return 0;
      return FollowUntilReady(log, offset, pid, std::chrono::seconds(flags.wait_timeout));
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
  auto store = store::ParseStoreUrl(flags.store);
  if (!store.ok()) {
    std::fprintf(stderr, "gantry up: %s\n", std::string(store.status().message()).c_str());
    return 2;
  }
  options.store = *std::move(store);
  auto broker = broker::ParseBrokerUrl(flags.broker);
  if (!broker.ok()) {
    std::fprintf(stderr, "gantry up: %s\n", std::string(broker.status().message()).c_str());
    return 2;
  }
  options.broker = *std::move(broker);
  if (flags.detach) return RunDetached(*spec, options, flags);
  return agent::RunAgent(*spec, options);
}

}  // namespace gantry::cli
