#include "proxy/owner.h"

#include <gtest/gtest.h>

#include "coord/stable_hash.h"

namespace gantry::proxy {
namespace {

Cluster ThreeEndpoints() {
  Cluster cluster = Cluster::Named("svc");
  for (int i = 1; i <= 3; ++i) {
    Endpoint endpoint;
    endpoint.instance_id = "svc-" + std::to_string(i);
    endpoint.key = "127.0.0.1:900" + std::to_string(i);
    cluster.endpoints.push_back(endpoint);
  }
  return cluster;
}

std::vector<std::string> Keys(const Cluster& cluster) {
  std::vector<std::string> keys;
  for (const Endpoint& e : cluster.endpoints) keys.push_back(e.key);
  return keys;
}

TEST(OwnerOf, UsesTheClustersOwnTable) {
  Cluster ring = ThreeEndpoints();
  ring.ring = std::make_shared<coord::RingHash>(Keys(ring));
  Cluster maglev = ThreeEndpoints();
  maglev.maglev = std::make_shared<coord::Maglev>(Keys(maglev));
  for (int i = 0; i < 100; ++i) {
    std::string key = "user-" + std::to_string(i);
    uint64_t hash = coord::StableHash(key);
    KeyOwner by_ring = OwnerOf(ring, key);
    EXPECT_EQ(by_ring.endpoint, &ring.endpoints[ring.ring->Pick(hash)]);
    EXPECT_EQ(by_ring.algorithm, "ring_hash");
    KeyOwner by_maglev = OwnerOf(maglev, key);
    EXPECT_EQ(by_maglev.endpoint, &maglev.endpoints[maglev.maglev->Pick(hash)]);
    EXPECT_EQ(by_maglev.algorithm, "maglev");
  }
}

TEST(OwnerOf, OtherClustersGetTheRingTheyWouldHave) {
  Cluster plain = ThreeEndpoints();
  Cluster ring = ThreeEndpoints();
  ring.ring = std::make_shared<coord::RingHash>(Keys(ring));
  for (int i = 0; i < 100; ++i) {
    std::string key = "k" + std::to_string(i);
    EXPECT_EQ(OwnerOf(plain, key).endpoint->instance_id, OwnerOf(ring, key).endpoint->instance_id);
  }
  EXPECT_EQ(OwnerOf(Cluster::Named("empty"), "k").endpoint, nullptr);
}

}  // namespace
}  // namespace gantry::proxy
