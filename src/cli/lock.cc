// gantry lock NAME -- cmd args: the command runs while this process holds the lock, with the
// fencing token in GANTRY_FENCING_TOKEN; the lease is kept alive every third of its TTL; the
// lock is released when the command ends, and the command is stopped if the lease is lost (the
// agent says so, or cannot confirm it for a whole TTL).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "cli/agent_client.h"
#include "cli/commands.h"
#include "core/duration.h"
#include "core/status.h"

namespace gantry::cli {
namespace json = boost::json;
namespace {

std::atomic<int> forwarded_signal{0};

void RecordSignal(int signal) { forwarded_signal = signal; }

void Fail(const std::string& message) {
  std::fprintf(stderr, "gantry lock: %s\n", message.c_str());
}

pid_t StartCommand(const std::vector<std::string>& command, int64_t token) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  std::string value = std::to_string(token);
  ::setenv("GANTRY_FENCING_TOKEN", value.c_str(), 1);
  std::vector<char*> argv;
  for (const std::string& arg : command) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  std::fprintf(stderr, "gantry lock: cannot run %s: %s\n", argv[0], std::strerror(errno));
  ::_exit(127);
}

int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

// SIGTERM, then SIGKILL after 5 s: the command's exit status.
int Stop(pid_t pid) {
  ::kill(pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return status;
}

}  // namespace

int Lock(const LockFlags& flags) {
  auto ttl = ParseDuration(flags.ttl);
  auto wait = ParseDuration(flags.wait);
  if (!ttl.ok() || !wait.ok()) {
    Fail("--ttl and --wait take durations such as 10s");
    return 2;
  }
  if (flags.command.empty()) {
    Fail("give the command after --: gantry lock NAME -- cmd args");
    return 2;
  }
  http::Request acquire;
  acquire.method = "POST";
  acquire.target = "/api/v1/locks/" + PathEscape(flags.name);
  acquire.body = json::serialize(json::object{{"ttl", flags.ttl}, {"wait", flags.wait}});
  auto held = CallAgent(flags.locator, acquire, *wait + std::chrono::seconds(10));
  if (!held.ok()) {
    Fail(std::string(StatusMessage(held.status())));
    return 2;
  }
  if (held->status != 200) {
    Fail(ErrorOf(*held));
    return 2;
  }
  json::object answer = json::parse(held->body).as_object();
  int64_t token = answer.at("token").to_number<int64_t>();
  std::string lease(answer.at("lease").as_string());

  ::signal(SIGINT, RecordSignal);
  ::signal(SIGTERM, RecordSignal);
  pid_t child = StartCommand(flags.command, token);
  if (child < 0) {
    Fail(std::string("fork: ") + std::strerror(errno));
    return 2;
  }

  using Clock = std::chrono::steady_clock;
  Duration every = std::max(*ttl / 3, Duration(50));
  Clock::time_point confirmed = Clock::now();  // the lease was known alive then
  Clock::time_point next_keepalive = confirmed + every;
  int status = 0;
  bool lost = false;
  while (::waitpid(child, &status, WNOHANG) == 0) {
    if (int signal = forwarded_signal.exchange(0)) ::kill(child, signal);
    if (Clock::now() >= next_keepalive) {
      http::Request keepalive;
      keepalive.method = "PUT";
      keepalive.target = "/api/v1/leases/" + lease + "/keepalive";
      auto alive = CallAgent(flags.locator, keepalive, every);
      if (alive.ok() && alive->status == 200) {
        confirmed = Clock::now();
      } else if (alive.ok() && alive->status == 404) {
        lost = true;  // the lease ended: another holder may already have the lock
      }
      // Unreachable agent: the lock may still be ours; past a TTL unconfirmed, it may not be.
      if (Clock::now() - confirmed >= *ttl) lost = true;
      next_keepalive = Clock::now() + every;
    }
    if (lost) {
      Fail(fmt::format("lost lock \"{}\" (token {}): stopping the command", flags.name, token));
      Stop(child);
      return 3;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  http::Request release;
  release.method = "DELETE";
  release.target = fmt::format("/api/v1/locks/{}?token={}", PathEscape(flags.name), token);
  auto released = CallAgent(flags.locator, release);
  if (!released.ok() || released->status != 200) {
    Fail(fmt::format(
        "could not release lock \"{}\": {}", flags.name,
        released.ok() ? ErrorOf(*released) : std::string(StatusMessage(released.status()))));
  }
  return ExitCodeOf(status);
}

}  // namespace gantry::cli
