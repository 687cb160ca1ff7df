// A real etcd member for a test: its own data folder and free 127.0.0.1 ports, started in its
// own process group and killed (SIGKILL) when the object goes. Needs Debian's etcd-server
// (scripts/setup installs it); a test fails, it does not skip, when etcd cannot start.
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace gantry::store::testing {

// A port the kernel just handed out and nothing listens on (etcd binds it right after).
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

class EtcdProcess {
 public:
  explicit EtcdProcess(std::filesystem::path dir)
      : dir_(std::move(dir)), client_port_(FreePort()), peer_port_(FreePort()) {
    std::filesystem::create_directories(dir_);
    Start();
  }
  ~EtcdProcess() { Kill(); }

  std::string endpoint() const { return "127.0.0.1:" + std::to_string(client_port_); }
  bool running() const { return pid_ > 0; }

  void Kill() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  // Starts it again on the same ports and data (after Kill): a restart of the member.
  bool Start() {
    std::string client = "http://" + endpoint();
    std::string peer = "http://127.0.0.1:" + std::to_string(peer_port_);
    std::vector<std::string> args = {"etcd",
                                     "--name",
                                     "test",
                                     "--data-dir",
                                     (dir_ / "data").string(),
                                     "--listen-client-urls",
                                     client,
                                     "--advertise-client-urls",
                                     client,
                                     "--listen-peer-urls",
                                     peer,
                                     "--initial-advertise-peer-urls",
                                     peer,
                                     "--initial-cluster",
                                     "test=" + peer,
                                     "--logger",
                                     "zap",
                                     "--log-outputs",
                                     (dir_ / "etcd.log").string()};
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      std::vector<char*> argv;
      for (auto& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      ::execvp("etcd", argv.data());
      std::perror("exec etcd (scripts/setup installs etcd-server)");
      ::_exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Listening(client_port_)) return true;
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) break;  // it died: see etcd.log
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    Kill();
    return false;
  }

 private:
  std::filesystem::path dir_;
  int client_port_;
  int peer_port_;
  pid_t pid_ = -1;
};

}  // namespace gantry::store::testing
