// The Store's contract, run against every backend: the embedded store and a real etcd. What
// callers rely on (revisions, versions, compare-and-set, prefixes, transactions, leases,
// watches, compaction) must mean the same on both. Revisions are compared relative to the
// first write, as an etcd member is shared by the tests (each under its own key prefix).
#include <memory>

#include <gtest/gtest.h>

#include "store/compactor.h"
#include "store/embedded_store.h"
#include "store/etcd/etcd_store.h"
#include "unit/store/etcd_process.h"
#include "unit/store/store_test_support.h"

namespace gantry::store {
namespace {

using std::chrono::seconds;
using testing::Await;
using testing::FreshDir;
using testing::RunUntil;

enum class Backend { kEmbedded, kEtcd };

class StoreContractTest : public ::testing::TestWithParam<Backend> {
 protected:
  static void SetUpTestSuite() {
    etcd_dir_ = FreshDir("contract-etcd");
    etcd_ = std::make_unique<testing::EtcdProcess>(etcd_dir_);
  }
  static void TearDownTestSuite() {
    etcd_.reset();
    std::filesystem::remove_all(etcd_dir_);
  }

  void SetUp() override {
    std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : test) {
      if (c == '/') c = '-';
    }
    if (GetParam() == Backend::kEmbedded) {
      dir_ = FreshDir(test);
      EmbeddedStoreOptions options;
      options.dir = dir_;
      auto store = EmbeddedStore::Open(io_, options);
      ASSERT_TRUE(store.ok()) << store.status();
      store_ = std::move(*store);
      return;
    }
    ASSERT_TRUE(etcd_->running()) << "etcd did not start: see " << (etcd_dir_ / "etcd.log");
    EtcdStoreOptions options;
    options.endpoints = {etcd_->endpoint()};
    options.key_prefix = "/contract/" + test + "/";
    auto store = EtcdStore::Open(io_, options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    testing::AwaitServing(io_, *store_);
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  absl::StatusOr<Revision> Put(const std::string& key, const std::string& value,
                               PutOptions options = {}) {
    return Await<Revision>(
        io_, [&](Done<Revision> done) { store_->Put(key, value, options, std::move(done)); });
  }
  absl::StatusOr<RangeResult> Range(KeyRange range) {
    return Await<RangeResult>(
        io_, [&](Done<RangeResult> done) { store_->Range(range, std::move(done)); });
  }
  std::optional<KeyValue> Get(const std::string& key) {
    auto result = Range({key, false});
    if (!result.ok() || result->kvs.empty()) return std::nullopt;
    return result->kvs.front();
  }
  absl::StatusOr<DeleteResult> Delete(KeyRange range) {
    return Await<DeleteResult>(
        io_, [&](Done<DeleteResult> done) { store_->Delete(range, std::move(done)); });
  }
  absl::StatusOr<TxnResult> Txn(TxnRequest request) {
    return Await<TxnResult>(io_,
                            [&](Done<TxnResult> done) { store_->Txn(request, std::move(done)); });
  }
  absl::StatusOr<LeaseGrant> Grant(Duration ttl) {
    return Await<LeaseGrant>(
        io_, [&](Done<LeaseGrant> done) { store_->GrantLease(ttl, std::move(done)); });
  }
  absl::StatusOr<LeaseGrant> KeepAlive(LeaseId id) {
    return Await<LeaseGrant>(
        io_, [&](Done<LeaseGrant> done) { store_->KeepAlive(id, std::move(done)); });
  }
  absl::StatusOr<Revision> Revoke(LeaseId id) {
    return Await<Revision>(io_,
                           [&](Done<Revision> done) { store_->RevokeLease(id, std::move(done)); });
  }

  static inline std::filesystem::path etcd_dir_;
  static inline std::unique_ptr<testing::EtcdProcess> etcd_;
  std::filesystem::path dir_;
  net::asio::io_context io_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreContractTest, EveryWriteAdvancesTheRevisionByOneAndKeysCountTheirVersions) {
  Revision first = *Put("a", "1");
  EXPECT_EQ(*Put("b", "2"), first + 1);
  EXPECT_EQ(*Put("a", "3"), first + 2);
  auto a = Get("a");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->value, "3");
  EXPECT_EQ(a->create_revision, first);
  EXPECT_EQ(a->mod_revision, first + 2);
  EXPECT_EQ(a->version, 2);
  auto deleted = Delete({"b", false});
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(deleted->deleted, 1);
  EXPECT_EQ(deleted->revision, first + 3);
  EXPECT_FALSE(Get("b"));
  EXPECT_EQ(Range({"a", false})->revision, first + 3);
}

TEST_P(StoreContractTest, CompareAndSetSaysWhereTheKeyIs) {
  Revision created = *Put("k", "v", {0, Revision{0}});  // only if absent
  auto again = Put("k", "w", {0, Revision{0}});
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(again.status().message().find("mod revision " + std::to_string(created)),
            std::string::npos)
      << again.status();
  EXPECT_EQ(*Put("k", "w", {0, created}), created + 1);
  EXPECT_EQ(Get("k")->value, "w");
}

TEST_P(StoreContractTest, APrefixRangeIsOrderedAndStopsAtThePrefix) {
  ASSERT_TRUE(Put("p/b", "2").ok());
  ASSERT_TRUE(Put("p/a", "1").ok());
  ASSERT_TRUE(Put("q", "3").ok());
  ASSERT_TRUE(Put("p", "0").ok());
  auto p = Range({"p/", true});
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->kvs.size(), 2u);
  EXPECT_EQ(p->kvs[0].key, "p/a");
  EXPECT_EQ(p->kvs[1].key, "p/b");
  EXPECT_EQ(Range({"", true})->kvs.size(), 4u);
  EXPECT_EQ(Delete({"p/", true})->deleted, 2);
  EXPECT_EQ(Range({"", true})->kvs.size(), 2u);
}

TEST_P(StoreContractTest, ATransactionRunsTheBranchItsComparesChoose) {
  TxnRequest create;
  create.compares.push_back({"k", Compare::Target::kVersion, Compare::Op::kEqual, 0, {}});
  create.success = {TxnOp::Put("k", "first"), TxnOp::Put("other", "x")};
  create.failure = {TxnOp::Get({"k", false})};
  auto created = Txn(create);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(created->succeeded);
  ASSERT_EQ(created->results.size(), 2u);
  EXPECT_TRUE(created->results[0].kvs.empty());  // no previous value
  EXPECT_EQ(Get("k")->mod_revision, created->revision);
  EXPECT_EQ(Get("other")->mod_revision, created->revision);  // one transaction, one revision

  auto second = Txn(create);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->succeeded);
  ASSERT_EQ(second->results.size(), 1u);
  ASSERT_EQ(second->results[0].kvs.size(), 1u);
  EXPECT_EQ(second->results[0].kvs[0].value, "first");

  TxnRequest replace;
  replace.compares.push_back({"k", Compare::Target::kValue, Compare::Op::kEqual, 0, "first"});
  replace.success = {TxnOp::Put("k", "second"), TxnOp::Delete({"other", false})};
  auto replaced = Txn(replace);
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_TRUE(replaced->succeeded);
  ASSERT_EQ(replaced->results[0].kvs.size(), 1u);
  EXPECT_EQ(replaced->results[0].kvs[0].value, "first");  // a put answers what it replaced
  EXPECT_EQ(replaced->results[1].deleted, 1);
}

TEST_P(StoreContractTest, BadInputIsRefused) {
  EXPECT_EQ(Put("", "v").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Put("k", std::string(kMaxValueBytes + 1, 'x')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Grant(std::chrono::milliseconds(10)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(Get("k"));
}

TEST_P(StoreContractTest, ALeaseHoldsItsKeysUntilRevokedAndIsGoneAfter) {
  auto lease = Grant(seconds(30));
  ASSERT_TRUE(lease.ok()) << lease.status();
  ASSERT_TRUE(Put("held", "v", {lease->id, std::nullopt}).ok());
  EXPECT_EQ(Get("held")->lease, lease->id);
  auto renewed = KeepAlive(lease->id);
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_EQ(renewed->id, lease->id);
  EXPECT_GT(renewed->ttl, seconds(20));
  ASSERT_TRUE(Revoke(lease->id).ok());
  EXPECT_FALSE(Get("held"));
  EXPECT_EQ(KeepAlive(lease->id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Put("late", "v", {lease->id, std::nullopt}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_P(StoreContractTest, ALeaseThatIsNotRenewedTakesItsKeysWithIt) {
  auto lease = Grant(seconds(2));
  ASSERT_TRUE(lease.ok()) << lease.status();
  ASSERT_TRUE(Put("short", "v", {lease->id, std::nullopt}).ok());
  auto deadline = std::chrono::steady_clock::now() + seconds(15);
  while (Get("short") && std::chrono::steady_clock::now() < deadline) {
    testing::RunFor(io_, std::chrono::milliseconds(200));
  }
  EXPECT_FALSE(Get("short"));
}

TEST_P(StoreContractTest, AWatchDeliversHistoryThenLiveEventsInOrder) {
  Revision first = *Put("w/a", "1");
  ASSERT_TRUE(Put("w/b", "2").ok());
  ASSERT_TRUE(Put("elsewhere", "x").ok());
  std::vector<Event> events;
  WatchId id = store_->Watch({"w/", true}, first, [&](absl::StatusOr<Event> event) {
    ASSERT_TRUE(event.ok()) << event.status();
    events.push_back(*event);
  });
  ASSERT_TRUE(RunUntil(io_, [&] { return events.size() == 2; }));
  ASSERT_TRUE(Delete({"w/a", false}).ok());
  TxnRequest both;  // two events at one revision
  both.success = {TxnOp::Put("w/c", "3"), TxnOp::Put("w/d", "4")};
  ASSERT_TRUE(Txn(both).ok());
  ASSERT_TRUE(RunUntil(io_, [&] { return events.size() == 5; }));
  EXPECT_EQ(events[0].kv.key, "w/a");
  EXPECT_EQ(events[0].kv.mod_revision, first);
  EXPECT_EQ(events[1].kv.key, "w/b");
  EXPECT_EQ(events[2].type, Event::Type::kDelete);
  EXPECT_EQ(events[2].kv.key, "w/a");
  EXPECT_EQ(events[2].kv.mod_revision, first + 3);
  EXPECT_EQ(events[3].kv.key, "w/c");
  EXPECT_EQ(events[4].kv.key, "w/d");
  EXPECT_EQ(events[3].kv.mod_revision, events[4].kv.mod_revision);
  store_->CancelWatch(id);
  ASSERT_TRUE(Put("w/e", "5").ok());
  testing::RunFor(io_, std::chrono::milliseconds(300));  // nothing after the cancel
  EXPECT_EQ(events.size(), 5u);
}

TEST_P(StoreContractTest, AWatchFromACompactedRevisionEndsOutOfRange) {
  Revision first = *Put("c", "1");
  ASSERT_TRUE(Put("c", "2").ok());
  Revision last = *Put("c", "3");
  auto compacted =
      Await<Revision>(io_, [&](Done<Revision> done) { store_->Compact(last, std::move(done)); });
  ASSERT_TRUE(compacted.ok()) << compacted.status();
  std::optional<absl::Status> ended;
  store_->Watch({"c", false}, first, [&](absl::StatusOr<Event> event) {
    if (!event.ok()) ended = event.status();
  });
  ASSERT_TRUE(RunUntil(io_, [&] { return ended.has_value(); }));
  EXPECT_EQ(ended->code(), absl::StatusCode::kOutOfRange) << *ended;
  EXPECT_EQ(Get("c")->value, "3");  // compaction forgets history, not the present
}

// Last: on etcd a compaction is the whole member's.
TEST_P(StoreContractTest, TheCompactorForgetsHistoryOneIntervalBehind) {
  Revision first = *Put("h", "1");
  ASSERT_TRUE(Put("h", "2").ok());
  Compactor compactor(io_, *store_, std::chrono::milliseconds(200));
  ASSERT_TRUE(RunUntil(io_, [&] { return compactor.compacted() > first; }));
  std::optional<absl::Status> ended;
  store_->Watch({"h", false}, first, [&](absl::StatusOr<Event> event) {
    if (!event.ok()) ended = event.status();
  });
  ASSERT_TRUE(RunUntil(io_, [&] { return ended.has_value(); }));
  EXPECT_EQ(ended->code(), absl::StatusCode::kOutOfRange) << *ended;
  EXPECT_EQ(Get("h")->value, "2");
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContractTest,
                         ::testing::Values(Backend::kEmbedded, Backend::kEtcd),
                         [](const auto& info) {
                           return info.param == Backend::kEmbedded ? "Embedded" : "Etcd";
                         });

}  // namespace
}  // namespace gantry::store
