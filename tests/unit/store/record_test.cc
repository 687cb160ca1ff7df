#include "store/record.h"

#include <random>

#include <gtest/gtest.h>

namespace gantry::store {
namespace {

TxnRequest SampleTxn() {
  TxnRequest txn;
  Compare compare;
  compare.key = "a";
  compare.target = Compare::Target::kValue;
  compare.op = Compare::Op::kGreater;
  compare.value = std::string("\0binary\xff", 8);
  txn.compares.push_back(compare);
  txn.success.push_back(TxnOp::Put("a", "value", 7));
  txn.success.push_back(TxnOp::Delete(KeyRange{"p/", true}));
  txn.failure.push_back(TxnOp::Get(KeyRange{"a", false}));
  return txn;
}

TEST(Record, EveryKindRoundTrips) {
  auto txn = DecodeRecord(EncodeRecord(SampleTxn()));
  ASSERT_TRUE(txn.ok()) << txn.status();
  const auto& t = std::get<TxnRequest>(*txn);
  ASSERT_EQ(t.compares.size(), 1u);
  EXPECT_EQ(t.compares[0].value, std::string("\0binary\xff", 8));
  EXPECT_EQ(t.compares[0].op, Compare::Op::kGreater);
  ASSERT_EQ(t.success.size(), 2u);
  EXPECT_EQ(t.success[0].lease, 7);
  EXPECT_TRUE(t.success[1].range.prefix);
  EXPECT_EQ(t.failure[0].type, TxnOp::Type::kGet);

  auto grant = DecodeRecord(EncodeRecord(GrantRecord{3, 10'000, 1'700'000'000'000}));
  EXPECT_EQ(std::get<GrantRecord>(*grant).wall_ms, 1'700'000'000'000);
  auto keepalive = DecodeRecord(EncodeRecord(KeepAliveRecord{3, 5}));
  EXPECT_EQ(std::get<KeepAliveRecord>(*keepalive).wall_ms, 5);
  EXPECT_EQ(std::get<RevokeRecord>(*DecodeRecord(EncodeRecord(RevokeRecord{9}))).id, 9);
  EXPECT_EQ(std::get<ExpireRecord>(*DecodeRecord(EncodeRecord(ExpireRecord{9, 4}))).renewals, 4);
}

TEST(Record, TruncatedOrGarbageRecordsAreDataLossNotCrashes) {
  std::string encoded = EncodeRecord(SampleTxn());
  for (size_t cut = 0; cut < encoded.size(); ++cut) {
    EXPECT_EQ(DecodeRecord(encoded.substr(0, cut)).status().code(), absl::StatusCode::kDataLoss)
        << "cut at " << cut;
  }
  EXPECT_EQ(DecodeRecord(encoded + "x").status().code(), absl::StatusCode::kDataLoss);
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string garbage = encoded;
    garbage[rng() % garbage.size()] = static_cast<char>(rng());
    (void)DecodeRecord(garbage);  // must not crash, hang or allocate wildly (ASan watches)
  }
}

}  // namespace
}  // namespace gantry::store
