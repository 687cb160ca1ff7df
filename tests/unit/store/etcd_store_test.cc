// What only the etcd backend has to get right: finding no etcd, losing it while running (calls
// fail Unavailable, nothing crashes) and getting it back (watches resume with no gap, and
// calls succeed again without a new store).
#include "store/etcd/etcd_store.h"

#include <gtest/gtest.h>

#include "unit/store/etcd_process.h"
#include "unit/store/store_test_support.h"

namespace gantry::store {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Await;
using testing::FreshDir;
using testing::RunUntil;

TEST(EtcdStoreTest, NoEtcdAtTheAddressIsAClearErrorInTime) {
  net::asio::io_context io;
  EtcdStoreOptions options;
  std::string endpoint = "127.0.0.1:" + std::to_string(testing::FreePort());
  options.endpoints = {endpoint};
  options.call_timeout = milliseconds(500);
  auto started = std::chrono::steady_clock::now();
  auto store = EtcdStore::Open(io, options);
  EXPECT_LT(std::chrono::steady_clock::now() - started, seconds(3));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(store.status().message().find(endpoint), std::string::npos) << store.status();
}

class EtcdRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir("etcd-restart");
    etcd_ = std::make_unique<testing::EtcdProcess>(dir_);
    ASSERT_TRUE(etcd_->running()) << "etcd did not start: see " << (dir_ / "etcd.log");
    EtcdStoreOptions options;
    options.endpoints = {etcd_->endpoint()};
    options.call_timeout = seconds(2);
    options.max_reconnect_backoff = milliseconds(200);
    auto store = EtcdStore::Open(io_, options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    ASSERT_TRUE(PutUntilServed("ready"));
  }
  void TearDown() override {
    store_.reset();
    etcd_.reset();
    std::filesystem::remove_all(dir_);
  }

  absl::StatusOr<Revision> Put(const std::string& key) {
    return Await<Revision>(
        io_, [&](Done<Revision> done) { store_->Put(key, "v", {}, std::move(done)); });
  }
  // A member that has just started answers "no leader" until it has elected itself.
  bool PutUntilServed(const std::string& key) {
    auto deadline = std::chrono::steady_clock::now() + seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Put(key).ok()) return true;
    }
    return false;
  }

  std::filesystem::path dir_;
  std::unique_ptr<testing::EtcdProcess> etcd_;
  net::asio::io_context io_;
  std::unique_ptr<EtcdStore> store_;
};

TEST_F(EtcdRestartTest, CallsFailUnavailableWhileEtcdIsDownAndWorkAgainAfter) {
  etcd_->Kill();
  auto down = Put("while-down");
  EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable) << down.status();
  auto lease = Await<LeaseGrant>(
      io_, [&](Done<LeaseGrant> done) { store_->GrantLease(seconds(10), std::move(done)); });
  EXPECT_EQ(lease.status().code(), absl::StatusCode::kUnavailable) << lease.status();
  ASSERT_TRUE(etcd_->Start());
  EXPECT_TRUE(PutUntilServed("after"));
}

TEST_F(EtcdRestartTest, ReadsAndUnsentWritesAreTriedAgainUntilEtcdIsBack) {
  EtcdStoreOptions options;
  options.endpoints = {etcd_->endpoint()};
  options.call_timeout = seconds(20);
  options.max_reconnect_backoff = milliseconds(200);
  auto patient = EtcdStore::Open(io_, options);
  ASSERT_TRUE(patient.ok()) << patient.status();
  etcd_->Kill();
  // Sent before gRPC has seen the connection end, the put would have gone out ("Socket
  // closed"), and a write that may have been applied is not sent again.
  ASSERT_TRUE(RunUntil(io_, [&] { return !(*patient)->Connected(); }));
  std::optional<absl::StatusOr<Revision>> put;
  std::optional<absl::StatusOr<RangeResult>> read;
  (*patient)->Put("retried", "v", {}, [&](absl::StatusOr<Revision> r) { put = std::move(r); });
  (*patient)->Range({"ready", false}, [&](absl::StatusOr<RangeResult> r) { read = std::move(r); });
  testing::RunFor(io_, milliseconds(500));  // failing meanwhile, and tried again
  EXPECT_FALSE(put.has_value());
  EXPECT_FALSE(read.has_value());
  ASSERT_TRUE(etcd_->Start());
  ASSERT_TRUE(RunUntil(io_, [&] { return put.has_value() && read.has_value(); }));
  ASSERT_TRUE(put->ok()) << put->status();
  ASSERT_TRUE(read->ok()) << read->status();
  EXPECT_EQ((*read)->kvs.size(), 1u);
}

TEST_F(EtcdRestartTest, AWatchResumesAfterARestartWithNoGapAndNoRepeat) {
  std::vector<std::string> keys;
  store_->Watch({"w/", true}, 0, [&](absl::StatusOr<Event> event) {
    ASSERT_TRUE(event.ok()) << event.status();
    keys.push_back(event->kv.key);
  });
  ASSERT_TRUE(Put("w/1").ok());
  ASSERT_TRUE(RunUntil(io_, [&] { return keys.size() == 1; }));
  etcd_->Kill();
  testing::RunFor(io_, milliseconds(1500));  // the stream notices, and backs off meanwhile
  ASSERT_TRUE(etcd_->Start());
  ASSERT_TRUE(PutUntilServed("w/2"));
  ASSERT_TRUE(Put("w/3").ok());
  ASSERT_TRUE(RunUntil(io_, [&] { return keys.size() >= 3; }));
  testing::RunFor(io_, milliseconds(300));  // no repeat comes late
  EXPECT_EQ(keys, (std::vector<std::string>{"w/1", "w/2", "w/3"}));
}

TEST_F(EtcdRestartTest, ALeaseIsRenewedOnTheStreamAndItsLossIsConfirmed) {
  auto lease = Await<LeaseGrant>(
      io_, [&](Done<LeaseGrant> done) { store_->GrantLease(seconds(20), std::move(done)); });
  ASSERT_TRUE(lease.ok()) << lease.status();
  for (int i = 0; i < 3; ++i) {
    auto renewed = Await<LeaseGrant>(
        io_, [&](Done<LeaseGrant> done) { store_->KeepAlive(lease->id, std::move(done)); });
    ASSERT_TRUE(renewed.ok()) << renewed.status();
    EXPECT_EQ(renewed->ttl, seconds(20));
  }
  auto left = Await<Duration>(
      io_, [&](Done<Duration> done) { store_->TimeToLive(lease->id, std::move(done)); });
  ASSERT_TRUE(left.ok()) << left.status();
  EXPECT_GT(*left, seconds(15));
  ASSERT_TRUE(Await<Revision>(io_, [&](Done<Revision> done) {
                store_->RevokeLease(lease->id, std::move(done));
              }).ok());
  auto gone = Await<Duration>(
      io_, [&](Done<Duration> done) { store_->TimeToLive(lease->id, std::move(done)); });
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound) << gone.status();
  auto renewed = Await<LeaseGrant>(
      io_, [&](Done<LeaseGrant> done) { store_->KeepAlive(lease->id, std::move(done)); });
  EXPECT_EQ(renewed.status().code(), absl::StatusCode::kNotFound) << renewed.status();
}

// A renewal late enough for the lease to have run out is confirmed with LeaseTimeToLive before
// it is believed (LeaseRenewals); a lease still there stays renewed.
TEST_F(EtcdRestartTest, ALateRenewalOfALiveLeaseIsConfirmedAndStands) {
  auto lease = Await<LeaseGrant>(
      io_, [&](Done<LeaseGrant> done) { store_->GrantLease(seconds(4), std::move(done)); });
  ASSERT_TRUE(lease.ok()) << lease.status();
  testing::RunFor(io_, milliseconds(2500));  // past half the TTL
  auto renewed = Await<LeaseGrant>(
      io_, [&](Done<LeaseGrant> done) { store_->KeepAlive(lease->id, std::move(done)); });
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_EQ(renewed->ttl, seconds(4));
  testing::RunFor(io_, milliseconds(2500));  // renewed: it would have run out by now
  auto left = Await<Duration>(
      io_, [&](Done<Duration> done) { store_->TimeToLive(lease->id, std::move(done)); });
  ASSERT_TRUE(left.ok()) << left.status();
}

}  // namespace
}  // namespace gantry::store
