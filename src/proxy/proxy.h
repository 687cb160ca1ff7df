// The data plane: N workers serving the gateway and mesh listeners from the snapshots the
// control plane publishes. Create/Start/Stop are called from the control-plane thread.
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "core/address.h"
#include "proxy/snapshot.h"

namespace gantry::proxy {

class Worker;

struct ProxyOptions {
  int workers = 1;   // threads, each with its own listeners (SO_REUSEPORT)
  HostPort gateway;  // port 0 picks a free port
  HostPort mesh;
};

class Proxy {
 public:
  static absl::StatusOr<std::unique_ptr<Proxy>> Create(const ProxyOptions& options,
                                                       const SnapshotStore& snapshots);
  ~Proxy();

  const HostPort& gateway_address() const { return gateway_; }
  const HostPort& mesh_address() const { return mesh_; }
  void Start();
  void Stop();

 private:
  Proxy() = default;
  std::vector<std::unique_ptr<Worker>> workers_;
  HostPort gateway_;
  HostPort mesh_;
};

}  // namespace gantry::proxy
