#include "orchestrator/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

extern char** environ;

namespace gantry::orchestrator {
namespace {

// Resolved in the parent: after fork only async-signal-safe calls are allowed.
std::string ResolveExecutable(const std::string& name, const std::vector<std::string>& env) {
  if (name.find('/') != std::string::npos) return name;
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& entry : env) {
    if (entry.starts_with("PATH=")) path = entry.substr(5);
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return name;  // exec will fail with ENOENT, reported to the caller
}

}  // namespace

absl::StatusOr<pid_t> SpawnProcess(const ProcessSpec& spec) {
  if (spec.argv.empty()) return absl::InvalidArgumentError("empty command");
  std::string executable = ResolveExecutable(spec.argv[0], spec.env);
  std::vector<char*> argv;
  for (const auto& arg : spec.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& var : spec.env) envp.push_back(const_cast<char*>(var.c_str()));
  envp.push_back(nullptr);

  std::vector<const char*> cgroup_procs;
  for (const auto& file : spec.cgroup_procs) cgroup_procs.push_back(file.c_str());

  int log_fd = ::open(spec.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::InternalError(
        fmt::format("cannot open log {}: {}", spec.log_file.string(), std::strerror(errno)));
  }
  int report[2];  // the child writes errno here if exec fails; CLOEXEC closes it on success
  if (::pipe2(report, O_CLOEXEC) != 0) {
    ::close(log_fd);
    return absl::InternalError(fmt::format("pipe: {}", std::strerror(errno)));
  }
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(log_fd);
    ::close(report[0]);
    ::close(report[1]);
    return absl::ResourceExhaustedError(fmt::format("fork: {}", std::strerror(err)));
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    if (spec.die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // the agent died before prctl
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);  // ignored dispositions would survive exec
    int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    int err = 0;
    for (const char* procs : cgroup_procs) {  // join the replica's cgroups: "0" is "me"
      int fd = ::open(procs, O_WRONLY | O_CLOEXEC);
      if (fd < 0 || ::write(fd, "0", 1) != 1) err = errno;
      if (fd >= 0) ::close(fd);
    }
    if (err != 0) {
      // Reported like an exec failure: a replica never runs without its limits.
    } else if (::chdir(spec.cwd.c_str()) != 0) {
      err = errno;
    } else {
      // Asio's sockets are not CLOEXEC: close everything but stdio and the report pipe.
      ::close_range(3, static_cast<unsigned>(report[1]) - 1, 0);
      ::close_range(static_cast<unsigned>(report[1]) + 1, ~0U, 0);
      ::execve(executable.c_str(), argv.data(), envp.data());
      err = errno;
    }
    ssize_t ignored = ::write(report[1], &err, sizeof err);
    (void)ignored;
    ::_exit(127);
  }
  ::close(log_fd);
  ::close(report[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n == sizeof child_errno) {
    ::waitpid(pid, nullptr, 0);
    return absl::FailedPreconditionError(fmt::format(
        "cannot run {} (in {}): {}", spec.argv[0], spec.cwd.string(), std::strerror(child_errno)));
  }
  return pid;
}

void SignalProcessGroup(pid_t pid, int signal) {
  if (pid > 0) ::kill(-pid, signal);
}

std::string DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) return fmt::format("exited with code {}", WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    const char* name = ::sigabbrev_np(WTERMSIG(wait_status));
    return fmt::format("killed by SIG{}", name ? name : std::to_string(WTERMSIG(wait_status)));
  }
  return "stopped";
}

std::vector<std::string> CurrentEnvironment() {
  std::vector<std::string> out;
  for (char** var = environ; var && *var; ++var) out.emplace_back(*var);
  return out;
}

}  // namespace gantry::orchestrator
