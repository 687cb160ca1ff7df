// A real nats-server with JetStream for a test: its own store folder and a free 127.0.0.1
// port. Needs Debian's nats-server (scripts/setup installs it).
#pragma once

#include <filesystem>
#include <string>

#include "unit/support/server_process.h"

namespace gantry::broker::testing {

class NatsProcess {
 public:
  explicit NatsProcess(std::filesystem::path dir)
      : dir_(std::move(dir)), port_(gantry::testing::FreePort()) {
    std::filesystem::create_directories(dir_);
    Start();
  }

  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  bool running() const { return process_.running(); }
  void Kill() { process_.Kill(); }
  // Starts it again on the same port and store (after Kill).
  bool Start() {
    return process_.Start(
        {"nats-server", "-js", "-a", "127.0.0.1", "-p", std::to_string(port_), "-sd",
         (dir_ / "jetstream").string(), "-l", (dir_ / "nats.log").string()},
        port_);
  }

 private:
  std::filesystem::path dir_;
  int port_;
  gantry::testing::ServerProcess process_;
};

}  // namespace gantry::broker::testing
