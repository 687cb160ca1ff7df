#include "store/embedded_store.h"

#include <sys/mount.h>
#include <sys/wait.h>

#include <cstring>
#include <random>

#include <gtest/gtest.h>

#include "unit/store/store_test_support.h"

namespace gantry::store {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Await;
using testing::FreshDir;
using testing::RunUntil;

class EmbeddedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Open() {
    store_.reset();
    EmbeddedStoreOptions options;
    options.dir = dir_;
    options.clock = &clock_;
    options.wall_ms = [this] { return wall_ms_; };
    options.snapshot_after_bytes = snapshot_after_bytes_;
    auto store = EmbeddedStore::Open(io_, options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  absl::StatusOr<Revision> Put(const std::string& key, const std::string& value,
                               PutOptions options = {}) {
    return Await<Revision>(
        io_, [&](Done<Revision> done) { store_->Put(key, value, options, std::move(done)); });
  }
  std::optional<KeyValue> Get(const std::string& key) {
    auto result = Await<RangeResult>(io_, [&](Done<RangeResult> done) {
      store_->Range({key, false}, std::move(done));
    });
    if (!result.ok() || result->kvs.empty()) return std::nullopt;
    return result->kvs.front();
  }
  absl::StatusOr<LeaseGrant> Grant(Duration ttl) {
    return Await<LeaseGrant>(
        io_, [&](Done<LeaseGrant> done) { store_->GrantLease(ttl, std::move(done)); });
  }
  absl::StatusOr<LeaseGrant> KeepAlive(LeaseId id) {
    return Await<LeaseGrant>(
        io_, [&](Done<LeaseGrant> done) { store_->KeepAlive(id, std::move(done)); });
  }
  // Expires due leases and waits until their expiry records are applied.
  void ExpireDue() {
    store_->CheckLeases();
    ASSERT_TRUE(RunUntil(io_, [&] { return store_->writes_in_progress() == 0; }));
  }

  std::filesystem::path dir_;
  net::asio::io_context io_;
  FakeClock clock_;
  int64_t wall_ms_ = 1'700'000'000'000;
  uint64_t snapshot_after_bytes_ = uint64_t{64} << 20;
  std::unique_ptr<EmbeddedStore> store_;
};

TEST_F(EmbeddedStoreTest, WritesSurviveReopenAndTheRevisionGoesOn) {
  Open();
  EXPECT_EQ(*Put("a", "1"), 2);
  EXPECT_EQ(*Put("b", "2"), 3);
  EXPECT_EQ(*Put("a", "3"), 4);
  auto deleted = Await<DeleteResult>(io_, [&](Done<DeleteResult> done) {
    store_->Delete({"b", false}, std::move(done));
  });
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->deleted, 1);
  EXPECT_EQ(deleted->revision, 5);

  Open();
  EXPECT_EQ(store_->revision(), 5);
  auto a = Get("a");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->value, "3");
  EXPECT_EQ(a->create_revision, 2);
  EXPECT_EQ(a->version, 2);
  EXPECT_FALSE(Get("b"));
  EXPECT_EQ(*Put("c", "x"), 6);
}

TEST_F(EmbeddedStoreTest, CompareAndSetAndItsFailure) {
  Open();
  EXPECT_EQ(*Put("k", "v", {0, Revision{0}}), 2);  // create only if absent
  auto again = Put("k", "w", {0, Revision{0}});
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(again.status().message().find("mod revision 2"), std::string::npos) << again.status();
  EXPECT_EQ(*Put("k", "w", {0, Revision{2}}), 3);
  EXPECT_EQ(Get("k")->value, "w");
  Open();  // the failed write is in the log and fails again on replay
  EXPECT_EQ(Get("k")->value, "w");
  EXPECT_EQ(store_->revision(), 3);
}

TEST_F(EmbeddedStoreTest, ConcurrentWritesShareOneFsyncAndApplyInOrder) {
  Open();
  std::vector<Revision> revisions;
  for (int i = 0; i < 100; ++i) {
    store_->Put("key" + std::to_string(i), "v", {}, [&](absl::StatusOr<Revision> r) {
      ASSERT_TRUE(r.ok()) << r.status();
      revisions.push_back(*r);
    });
  }
  // Nothing is visible before it is durable.
  EXPECT_FALSE(Get("key0"));
  ASSERT_TRUE(RunUntil(io_, [&] { return revisions.size() == 100; }));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(revisions[i], 2 + i);
  // The first put went alone; the other 99 queued behind it and shared the second fsync.
  EXPECT_EQ(store_->stats().appends, 2u);
  EXPECT_EQ(store_->stats().records, 100u);
}

TEST_F(EmbeddedStoreTest, BadInputIsRefusedWithoutWriting) {
  Open();
  EXPECT_EQ(Put("", "v").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Put(std::string(kMaxKeyBytes + 1, 'k'), "v").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Put("k", std::string(kMaxValueBytes + 1, 'v')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Grant(milliseconds(10)).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Grant(kMaxLeaseTtl + seconds(1)).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(KeepAlive(42).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Put("k", "v", {42, std::nullopt}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->stats().records, 1u);  // only the put with an unknown lease reached the log
  EXPECT_EQ(store_->revision(), 1);
}

TEST_F(EmbeddedStoreTest, LeasesExpireOnTheFakeClockAndKeepalivesExtendThem) {
  Open();
  auto lease = Grant(seconds(10));
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE(Put("svc/a", "x", {lease->id, std::nullopt}).ok());
  clock_.Advance(seconds(8));
  ExpireDue();
  EXPECT_TRUE(Get("svc/a"));
  ASSERT_TRUE(KeepAlive(lease->id).ok());  // now due at 18 s
  clock_.Advance(seconds(8));
  ExpireDue();
  EXPECT_TRUE(Get("svc/a"));
  clock_.Advance(seconds(3));
  store_->CheckLeases();
  ASSERT_TRUE(RunUntil(io_, [&] { return !Get("svc/a"); }));
  EXPECT_EQ(KeepAlive(lease->id).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(EmbeddedStoreTest, AKeepaliveLoggedBeforeTheExpiryWins) {
  Open();
  auto lease = Grant(seconds(1));
  ASSERT_TRUE(Put("k", "v", {lease->id, std::nullopt}).ok());
  clock_.Advance(seconds(2));
  std::optional<absl::StatusOr<LeaseGrant>> kept;
  store_->KeepAlive(lease->id, [&](const absl::StatusOr<LeaseGrant>& r) { kept = r; });
  store_->CheckLeases();  // decides expiry while the keepalive is still on its way to disk
  ASSERT_TRUE(RunUntil(io_, [&] { return kept.has_value(); }));
  ASSERT_TRUE(kept->ok()) << kept->status();
  io_.restart();
  io_.poll();
  EXPECT_TRUE(Get("k"));
  Open();  // and replay agrees
  EXPECT_TRUE(Get("k"));
}

TEST_F(EmbeddedStoreTest, LeasesThatRanOutWhileDownAreExpiredOnOpen) {
  Open();
  auto short_lease = Grant(seconds(10));
  auto long_lease = Grant(seconds(60));
  ASSERT_TRUE(Put("short", "x", {short_lease->id, std::nullopt}).ok());
  ASSERT_TRUE(Put("long", "x", {long_lease->id, std::nullopt}).ok());
  Revision before = store_->revision();
  store_.reset();
  wall_ms_ += 30'000;  // down for 30 s
  Open();
  EXPECT_FALSE(Get("short"));
  EXPECT_TRUE(Get("long"));
  EXPECT_EQ(store_->revision(), before + 1);
  // The long lease keeps its remaining 30 s, not a fresh 60 s.
  clock_.Advance(seconds(29));
  ExpireDue();
  EXPECT_TRUE(Get("long"));
  clock_.Advance(seconds(2));
  store_->CheckLeases();
  EXPECT_TRUE(RunUntil(io_, [&] { return !Get("long"); }));
  // Lease ids are never reused after a restart.
  auto next = Grant(seconds(10));
  EXPECT_GT(next->id, long_lease->id);
}

TEST_F(EmbeddedStoreTest, SnapshotsKeepLeaseTimeAndCutTheLog) {
  snapshot_after_bytes_ = 4096;
  Open();
  auto short_lease = Grant(seconds(10));
  auto long_lease = Grant(seconds(60));
  ASSERT_TRUE(Put("short", "x", {short_lease->id, std::nullopt}).ok());
  ASSERT_TRUE(Put("long", "x", {long_lease->id, std::nullopt}).ok());
  for (int i = 0; i < 100; ++i)
    ASSERT_TRUE(Put("filler" + std::to_string(i % 10), std::string(100, 'f')).ok());
  EXPECT_GE(store_->stats().snapshots, 2u);
  Revision before = store_->revision();
  // Only the current log is left beside the snapshot.
  int logs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_))
    logs += entry.path().filename().string().starts_with("wal-");
  EXPECT_EQ(logs, 1);
  store_.reset();
  wall_ms_ += 30'000;  // down for 30 s
  Open();
  EXPECT_FALSE(Get("short"));
  EXPECT_TRUE(Get("long"));
  EXPECT_EQ(Get("filler3")->version, 10);
  EXPECT_EQ(store_->revision(), before + 1);
  clock_.Advance(seconds(31));
  store_->CheckLeases();
  EXPECT_TRUE(RunUntil(io_, [&] { return !Get("long"); }));
  // History before the snapshot is gone: watching from there is "compacted".
  absl::Status error;
  store_->Watch({"", true}, 2, [&](const absl::StatusOr<Event>& e) { error = e.status(); });
  EXPECT_EQ(error.code(), absl::StatusCode::kOutOfRange);
}

TEST_F(EmbeddedStoreTest, WatchersSeeOnlyDurableWritesInOrder) {
  Open();
  ASSERT_TRUE(Put("w/a", "1").ok());
  std::vector<Event> events;
  store_->Watch({"w/", true}, 1, [&](absl::StatusOr<Event> e) {
    ASSERT_TRUE(e.ok());
    events.push_back(*e);
  });
  ASSERT_EQ(events.size(), 1u);  // history first
  store_->Put("w/b", "2", {}, [](const absl::StatusOr<Revision>&) {});
  EXPECT_EQ(events.size(), 1u);  // not durable yet
  ASSERT_TRUE(RunUntil(io_, [&] { return events.size() == 2; }));
  EXPECT_EQ(events[1].kv.key, "w/b");
  EXPECT_EQ(events[1].kv.mod_revision, 3);

  Await<Revision>(io_, [&](Done<Revision> done) {
    store_->Compact(2, std::move(done));
  }).IgnoreError();
  absl::Status error;
  store_->Watch({"w/", true}, 2, [&](const absl::StatusOr<Event>& e) { error = e.status(); });
  EXPECT_EQ(error.code(), absl::StatusCode::kOutOfRange);
}

TEST_F(EmbeddedStoreTest, DiskFullFailsWritesKeepsReadsAndLosesNothing) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
  ASSERT_EQ(::mount("tmpfs", dir_.c_str(), "tmpfs", 0, "size=64k"), 0) << std::strerror(errno);
  Open();
  std::vector<std::string> acknowledged;
  absl::Status failure;
  for (int i = 0; i < 1000 && failure.ok(); ++i) {
    std::string key = "k" + std::to_string(i);
    auto r = Put(key, std::string(1000, 'x'));
    if (r.ok()) acknowledged.push_back(key);
    failure = r.status();
  }
  EXPECT_EQ(failure.code(), absl::StatusCode::kResourceExhausted) << failure;
  EXPECT_GT(acknowledged.size(), 10u);
  for (const auto& key : acknowledged) EXPECT_TRUE(Get(key)) << key;  // reads go on
  Open();
  for (const auto& key : acknowledged) EXPECT_TRUE(Get(key)) << key;
  EXPECT_EQ(store_->revision(), 1 + static_cast<Revision>(acknowledged.size()));
  store_.reset();
  ASSERT_EQ(::umount(dir_.c_str()), 0);
}

}  // namespace
}  // namespace gantry::store

namespace gantry::store {
namespace {

// Replay must rebuild exactly the state the live store reached: random requests (some failing
// on purpose), lease expiries on the fake clock, then reopen and compare everything.
TEST_F(EmbeddedStoreTest, ReplayRebuildsTheSameStateForRandomRequests) {
  for (int seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    // Odd seeds cut the log into snapshots every 2 KiB, so replay starts from one.
    snapshot_after_bytes_ = seed % 2 ? 2048 : uint64_t{64} << 20;
    std::filesystem::remove_all(dir_);
    Open();
    std::mt19937 rng(seed);
    std::vector<LeaseId> leases;
    int completed = 0;
    int issued = 0;
    auto count = [&completed](auto) { ++completed; };
    for (int i = 0; i < 150; ++i) {
      std::string key = "k" + std::to_string(rng() % 12);
      LeaseId lease = leases.empty() || rng() % 3 ? 0 : leases[rng() % leases.size()];
      ++issued;
      switch (rng() % 7) {
        case 0:
        case 1:
          store_->Put(key, std::to_string(i), {lease, std::nullopt}, count);
          break;
        case 2:
          store_->Put(key, "cas", {0, Revision(rng() % 20)}, count);
          break;
        case 3:
          store_->Delete({key.substr(0, 1 + rng() % 2), rng() % 2 == 0}, count);
          break;
        case 4:
          store_->GrantLease(seconds(1 + rng() % 5), [&](absl::StatusOr<LeaseGrant> g) {
            if (g.ok()) leases.push_back(g->id);
            ++completed;
          });
          break;
        case 5:
          if (leases.empty()) {
            --issued;
          } else if (rng() % 2) {
            store_->KeepAlive(leases[rng() % leases.size()], count);
          } else {
            store_->RevokeLease(leases[rng() % leases.size()], count);
          }
          break;
        case 6: {
          TxnRequest txn;
          Compare compare;
          compare.key = key;
          compare.target = Compare::Target::kVersion;
          compare.op = Compare::Op::kLess;
          compare.number = 2;
          txn.compares.push_back(compare);
          txn.success.push_back(TxnOp::Put(key + "/t", "t", lease));
          txn.failure.push_back(TxnOp::Delete({key, false}));
          store_->Txn(std::move(txn), count);
          break;
        }
      }
      if (rng() % 4 == 0) {
        clock_.Advance(milliseconds(rng() % 1500));  // the wall clock stands still
        store_->CheckLeases();
      }
      if (rng() % 5 == 0) {
        ASSERT_TRUE(RunUntil(io_, [&] { return completed == issued; }));
      }
    }
    ASSERT_TRUE(
        RunUntil(io_, [&] { return completed == issued && store_->writes_in_progress() == 0; }));
    uint64_t snapshots_seen = store_->stats().snapshots;
    auto before = Await<RangeResult>(io_, [&](const Done<RangeResult>& d) {
      store_->Range({"", true}, d);
    });
    Open();
    auto after = Await<RangeResult>(io_, [&](const Done<RangeResult>& d) {
      store_->Range({"", true}, d);
    });
    ASSERT_TRUE(before.ok() && after.ok());
    EXPECT_EQ(before->revision, after->revision);
    EXPECT_EQ(before->kvs, after->kvs);
    if (seed % 2) {
      EXPECT_GT(snapshots_seen, 0u);
    }
  }
}

}  // namespace
}  // namespace gantry::store

namespace gantry::store {
namespace {

TEST_F(EmbeddedStoreTest, ASecondProcessCannotOpenTheSameStore) {
  Open();
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    net::asio::io_context io;
    auto second = EmbeddedStore::Open(io, {dir_, nullptr, nullptr, 10});
    ::_exit(!second.ok() && absl::IsFailedPrecondition(second.status()) ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the second open succeeded";
}

}  // namespace
}  // namespace gantry::store
