#include "store/mvcc_index.h"

#include <gtest/gtest.h>

namespace gantry::store {
namespace {
using std::chrono::seconds;

TEST(MvccIndex, RevisionsAndVersionsFollowEtcd) {
  MvccIndex index;
  EXPECT_EQ(index.revision(), 1);
  EXPECT_EQ(*index.Put("a", "1"), 2);
  EXPECT_EQ(*index.Put("b", "1"), 3);
  EXPECT_EQ(*index.Put("a", "2"), 4);
  KeyValue a = *index.Get("a");
  EXPECT_EQ(a.create_revision, 2);
  EXPECT_EQ(a.mod_revision, 4);
  EXPECT_EQ(a.version, 2);
  EXPECT_EQ(index.Delete({"a", false}), 1);
  EXPECT_EQ(index.revision(), 5);
  EXPECT_EQ(index.Delete({"a", false}), 0);  // nothing deleted: no new revision
  EXPECT_EQ(index.revision(), 5);
  EXPECT_EQ(*index.Put("a", "3"), 6);
  EXPECT_EQ(index.Get("a")->version, 1);  // a new life
  EXPECT_EQ(index.Get("a")->create_revision, 6);
}

TEST(MvccIndex, PrefixRangeAndDelete) {
  MvccIndex index;
  for (const char* key : {"svc/a", "svc/b", "svcx", "other"}) ASSERT_TRUE(index.Put(key, "v").ok());
  auto in_svc = index.Range({"svc/", true});
  ASSERT_EQ(in_svc.size(), 2u);
  EXPECT_EQ(in_svc[0].key, "svc/a");
  EXPECT_EQ(index.Range({"", true}).size(), 4u);
  Revision before = index.revision();
  EXPECT_EQ(index.Delete({"svc", true}), 3);
  EXPECT_EQ(index.revision(), before + 1);  // a range delete is one revision
  EXPECT_EQ(index.Range({"", true}).size(), 1u);
}

TEST(MvccIndex, ConditionalPut) {
  MvccIndex index;
  EXPECT_TRUE(index.Put("k", "1", 0, /*expect_mod_revision=*/0).ok());  // create only
  EXPECT_EQ(index.Put("k", "2", 0, 0).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(index.Put("k", "2", 0, 2).ok());
  EXPECT_EQ(index.Put("k", "3", 0, 2).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(index.Get("k")->value, "2");
}

TEST(MvccIndex, RejectsBadKeysValuesAndLeases) {
  MvccIndex index;
  EXPECT_EQ(index.Put("", "v").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(index.Put(std::string(kMaxKeyBytes + 1, 'k'), "v").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(index.Put(std::string(kMaxKeyBytes, 'k'), "v").ok());
  EXPECT_EQ(index.Put("k", std::string(kMaxValueBytes + 1, 'v')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(index.Put("k", "v", 42).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(index.revision(), 2);  // only the valid put happened
}

TEST(MvccIndex, TxnComparesThenOrElse) {
  MvccIndex index;
  ASSERT_TRUE(index.Put("lock", "owner-1").ok());
  Compare free{"lock", Compare::Target::kVersion, Compare::Op::kEqual, 0, ""};
  TxnOp take = TxnOp::Put("lock", "owner-2");
  TxnOp read = TxnOp::Get({"lock", false});
  auto result = index.Txn({free}, {take}, {read});
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(result->succeeded);
  EXPECT_EQ(result->revision, 2);  // a read-only branch writes nothing
  ASSERT_EQ(result->results.size(), 1u);
  EXPECT_EQ(result->results[0].kvs[0].value, "owner-1");

  Compare held{"lock", Compare::Target::kValue, Compare::Op::kEqual, 0, "owner-1"};
  TxnOp release = TxnOp::Delete({"lock", false});
  TxnOp note = TxnOp::Put("log", "released");
  result = index.Txn({held}, {release, note}, {});
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->succeeded);
  EXPECT_EQ(result->revision, 3);  // two writes, one revision
  EXPECT_EQ(index.Get("log")->mod_revision, 3);
  EXPECT_FALSE(index.Get("lock"));
}

TEST(MvccIndex, TxnIsAllOrNothing) {
  MvccIndex index;
  TxnOp ok = TxnOp::Put("a", "1");
  TxnOp bad = TxnOp::Put("b", "1", /*lease=*/99);
  EXPECT_EQ(index.Txn({}, {ok, bad}, {}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(index.Get("a"));
  EXPECT_EQ(index.Txn({}, {ok, ok}, {}).status().code(), absl::StatusCode::kInvalidArgument);
  TxnOp wipe = TxnOp::Delete({"", true});
  EXPECT_EQ(index.Txn({}, {ok, wipe}, {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(index.revision(), 1);
}

TEST(MvccIndex, LeasesExpireOnTheCallersClock) {
  FakeClock clock;
  MvccIndex index;
  LeaseId lease = *index.GrantLease(seconds(10), clock.Now());
  ASSERT_TRUE(index.Put("svc/a", "x", lease).ok());
  ASSERT_TRUE(index.Put("svc/b", "x", lease).ok());
  ASSERT_TRUE(index.Put("svc/c", "x").ok());
  EXPECT_EQ(index.NextLeaseDeadline(), clock.Now() + seconds(10));
  clock.Advance(seconds(9));
  EXPECT_TRUE(index.ExpireLeases(clock.Now()).empty());
  ASSERT_TRUE(index.KeepAlive(lease, clock.Now()).ok());  // deadline now at 19 s
  clock.Advance(seconds(9));
  EXPECT_TRUE(index.ExpireLeases(clock.Now()).empty());
  Revision before = index.revision();
  clock.Advance(seconds(1));
  EXPECT_EQ(index.ExpireLeases(clock.Now()), std::vector<LeaseId>{lease});
  EXPECT_EQ(index.revision(), before + 1);  // both keys went in one revision
  EXPECT_EQ(index.Range({"svc/", true}).size(), 1u);
  EXPECT_EQ(index.KeepAlive(lease, clock.Now()).code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(index.NextLeaseDeadline());
}

TEST(MvccIndex, RewritingAKeyMovesItBetweenLeases) {
  FakeClock clock;
  MvccIndex index;
  LeaseId first = *index.GrantLease(seconds(5), clock.Now());
  LeaseId second = *index.GrantLease(seconds(50), clock.Now());
  ASSERT_TRUE(index.Put("k", "1", first).ok());
  ASSERT_TRUE(index.Put("k", "2", second).ok());
  ASSERT_TRUE(index.RevokeLease(first).ok());
  EXPECT_TRUE(index.Get("k"));  // no longer the first lease's
  ASSERT_TRUE(index.Put("k", "3").ok());
  ASSERT_TRUE(index.RevokeLease(second).ok());
  EXPECT_EQ(index.Get("k")->value, "3");  // detached by the plain put
  EXPECT_EQ(index.GrantLease(seconds(0), clock.Now()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MvccIndex, WatchReplaysHistoryThenFollowsLive) {
  MvccIndex index;
  ASSERT_TRUE(index.Put("a/1", "x").ok());  // 2
  ASSERT_TRUE(index.Put("b/1", "x").ok());  // 3
  ASSERT_TRUE(index.Put("a/2", "x").ok());  // 4
  std::vector<Event> seen;
  auto id = index.Watch({"a/", true}, 3, [&](const Event& e) { seen.push_back(e); });
  ASSERT_TRUE(id.ok());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kv.key, "a/2");
  index.Delete({"a/1", false});             // 5
  ASSERT_TRUE(index.Put("b/2", "x").ok());  // 6: not watched
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].type, Event::Type::kDelete);
  EXPECT_EQ(seen[1].kv.mod_revision, 5);
  index.CancelWatch(*id);
  ASSERT_TRUE(index.Put("a/3", "x").ok());
  EXPECT_EQ(seen.size(), 2u);
}

TEST(MvccIndex, WatchFromNowAndCompaction) {
  MvccIndex index;
  ASSERT_TRUE(index.Put("k", "1").ok());
  std::vector<Revision> seen;
  ASSERT_TRUE(
      index.Watch({"k", false}, 0, [&](const Event& e) { seen.push_back(e.kv.mod_revision); })
          .ok());
  ASSERT_TRUE(index.Put("k", "2").ok());
  EXPECT_EQ(seen, std::vector<Revision>{3});
  ASSERT_TRUE(index.Compact(2).ok());
  auto late = index.Watch({"k", false}, 2, [](const Event&) {});
  EXPECT_EQ(late.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_NE(late.status().message().find("compacted"), std::string::npos);
  std::vector<Revision> replay;
  ASSERT_TRUE(
      index.Watch({"k", false}, 3, [&](const Event& e) { replay.push_back(e.kv.mod_revision); })
          .ok());
  EXPECT_EQ(replay, std::vector<Revision>{3});
  EXPECT_EQ(index.Compact(2).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(index.Compact(99).code(), absl::StatusCode::kInvalidArgument);
}

TEST(MvccIndex, AWatchMayCancelItselfFromItsCallback) {
  MvccIndex index;
  MvccIndex::WatchId id = 0;
  int calls = 0;
  id = *index.Watch({"", true}, 0, [&](const Event&) {
    ++calls;
    index.CancelWatch(id);
  });
  TxnOp a = TxnOp::Put("a", "1");
  TxnOp b = TxnOp::Put("b", "1");
  ASSERT_TRUE(index.Txn({}, {a, b}, {}).ok());
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace gantry::store

namespace gantry::store {
namespace {

TEST(MvccIndex, AWatchFromAFutureRevisionSkipsEarlierWrites) {
  MvccIndex index;
  std::vector<Revision> seen;
  ASSERT_TRUE(
      index.Watch({"", true}, 4, [&](const Event& e) { seen.push_back(e.kv.mod_revision); }).ok());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(index.Put("k", "v").ok());  // revisions 2..5
  EXPECT_EQ(seen, (std::vector<Revision>{4, 5}));
}

}  // namespace
}  // namespace gantry::store
