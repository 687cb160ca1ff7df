#include "store/store_url.h"

#include <gtest/gtest.h>

namespace gantry::store {
namespace {

TEST(StoreUrl, NothingIsTheEmbeddedStore) {
  auto url = ParseStoreUrl("");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->kind, StoreUrl::Kind::kEmbedded);
}

TEST(StoreUrl, EtcdTakesEveryMember) {
  auto url = ParseStoreUrl("etcd://10.0.0.1:2379,localhost:2479");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->kind, StoreUrl::Kind::kEtcd);
  ASSERT_EQ(url->endpoints.size(), 2u);
  EXPECT_EQ(url->endpoints[0], (HostPort{"10.0.0.1", 2379}));
  EXPECT_EQ(url->endpoints[1], (HostPort{"localhost", 2479}));
}

TEST(StoreUrl, MistakesAreNamed) {
  for (const char* bad :
       {"consul://h:1", "etcd://", "etcd://h:1,", "etcd://h", "etcd://h:1/v3", "etcd://h:99999"}) {
    auto url = ParseStoreUrl(bad);
    EXPECT_EQ(url.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(url.status().message().find(bad), std::string::npos) << url.status();
  }
}

}  // namespace
}  // namespace gantry::store
