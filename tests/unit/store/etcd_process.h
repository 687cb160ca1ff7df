// A real etcd member for a test: its own data folder and free 127.0.0.1 ports. Needs Debian's
// etcd-server (scripts/setup installs it).
#pragma once

#include <filesystem>
#include <string>

#include "unit/support/server_process.h"

namespace gantry::store::testing {

using gantry::testing::FreePort;

class EtcdProcess {
 public:
  explicit EtcdProcess(std::filesystem::path dir)
      : dir_(std::move(dir)), client_port_(FreePort()), peer_port_(FreePort()) {
    std::filesystem::create_directories(dir_);
    Start();
  }

  std::string endpoint() const { return "127.0.0.1:" + std::to_string(client_port_); }
  bool running() const { return process_.running(); }

  void Kill() { process_.Kill(); }
  // Starts it again on the same ports and data (after Kill): a restart of the member.
  bool Start() {
    std::string client = "http://" + endpoint();
    std::string peer = "http://127.0.0.1:" + std::to_string(peer_port_);
    return process_.Start(
        {"etcd", "--name", "test", "--data-dir", (dir_ / "data").string(), "--listen-client-urls",
         client, "--advertise-client-urls", client, "--listen-peer-urls", peer,
         "--initial-advertise-peer-urls", peer, "--initial-cluster", "test=" + peer, "--logger",
         "zap", "--log-outputs", (dir_ / "etcd.log").string()},
        client_port_);
  }

 private:
  std::filesystem::path dir_;
  int client_port_;
  int peer_port_;
  gantry::testing::ServerProcess process_;
};

}  // namespace gantry::store::testing
