// A real server process for a unit test (etcd, nats-server): started in its own process group
// on free 127.0.0.1 ports, killed (SIGKILL) when the object goes, or when the test process dies
// (a crash, ctest's timeout): none is left behind holding the test's output open. A test fails, it
// does not skip, when the server cannot start (scripts/setup installs them).
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace gantry::testing {

// A port the kernel just handed out and nothing listens on (the server binds it right after).
inline int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t size = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(fd);
  return ntohs(address.sin_port);
}

inline bool Listening(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return ok;
}

class ServerProcess {
 public:
  ~ServerProcess() { Kill(); }

  bool running() const { return pid_ > 0; }
  // Runs `args` (args[0] found on PATH) and waits up to 20 s until `port` takes connections.
  bool Start(std::vector<std::string> args, int port) {
    pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);  // the test died before prctl
      std::vector<char*> argv;
      for (auto& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      ::execvp(argv[0], argv.data());
      std::perror(("exec " + args[0] + " (scripts/setup installs it)").c_str());
      ::_exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Listening(port)) return true;
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) break;  // it died: see its log
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    Kill();
    return false;
  }
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace gantry::testing
