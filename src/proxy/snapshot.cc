#include "proxy/snapshot.h"

namespace gantry::proxy {

const Cluster* Snapshot::FindCluster(std::string_view service) const {
  auto it = cluster_by_service.find(std::string(service));
  return it == cluster_by_service.end() ? nullptr : &clusters[it->second];
}

SnapshotStore::SnapshotStore() { current_.store(std::make_shared<const Snapshot>()); }

void SnapshotStore::Publish(std::shared_ptr<Snapshot> snapshot) {
  uint64_t next = version_.load() + 1;
  snapshot->version = next;
  current_.store(std::move(snapshot), std::memory_order_release);
  version_.store(next, std::memory_order_release);
}

}  // namespace gantry::proxy
