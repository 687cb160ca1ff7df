#include "broker/embedded_broker.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "broker/message.h"
#include "broker/offset_tracker.h"
#include "broker/topic_log.h"
#include "net/asio.h"

namespace gantry::broker {
namespace {

std::filesystem::path FreshDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("gantry-broker-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

Message Sample(uint64_t offset, std::string payload = "hello") {
  Message m;
  m.offset = offset;
  m.time_ms = 1'700'000'000'000 + static_cast<int64_t>(offset);
  m.id = "id-" + std::to_string(offset);
  m.key = "k";
  m.headers = {{"traceparent", "00-abc-def-01"}};
  m.payload = std::move(payload);
  return m;
}

TEST(Message, RoundTripsAndRefusesGarbage) {
  Message m = Sample(42, std::string("bin\0ary", 7));
  auto decoded = DecodeMessage(EncodeMessage(m));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, m);
  std::string record = EncodeMessage(m);
  EXPECT_FALSE(DecodeMessage(record.substr(0, record.size() - 1)).ok());
  EXPECT_FALSE(DecodeMessage("x").ok());
}

TEST(OffsetTracker, CommitsOverOutOfOrderAcksAndRetentionGaps) {
  OffsetTracker t(5);
  t.Ack(7);
  t.Ack(6);
  EXPECT_EQ(t.committed(), 5u);  // 5 is still out
  t.Ack(5);
  EXPECT_EQ(t.committed(), 8u);
  // 8 and 9 in flight while retention drops 10..19; 20 is delivered and acknowledged first.
  t.Skip(10, 20);
  t.Ack(20);
  EXPECT_EQ(t.committed(), 8u);
  t.Ack(9);
  t.Ack(8);
  EXPECT_EQ(t.committed(), 21u);  // over the gap and 20
  t.Ack(3);                       // old news
  EXPECT_EQ(t.committed(), 21u);
}

// What the embedded broker's consumer does with each fetched message: a jump past next() is what
// retention dropped before anyone fetched it, as good as acknowledged.
TEST(OffsetTracker, FetchingPastAGapSkipsIt) {
  OffsetTracker t(5);
  EXPECT_EQ(t.next(), 5u);
  EXPECT_EQ(t.Fetched(5), 0u);
  EXPECT_EQ(t.Fetched(9), 3u);  // 6, 7 and 8 are gone
  EXPECT_EQ(t.next(), 10u);
  EXPECT_EQ(t.Fetched(7), 0u);  // a repeat: next() does not go back
  EXPECT_EQ(t.next(), 10u);
  t.Ack(5);
  EXPECT_EQ(t.committed(), 9u);  // over the gap, up to 9 still out
  t.Ack(9);
  EXPECT_EQ(t.committed(), 10u);
}

std::vector<Message> ReadAll(const TopicLog& log, uint64_t from, size_t limit = 1000) {
  auto read = log.Read(from, limit);
  EXPECT_TRUE(read.ok()) << read.status();
  return read.ok() ? *read : std::vector<Message>{};
}

TEST(TopicLog, SurvivesReopenAndDropsOldSegments) {
  auto dir = FreshDir("log");
  RetentionOptions options;
  options.segment_bytes = 300;  // a few messages per segment
  options.max_bytes = 1000;
  {
    auto log = TopicLog::Open(dir, options);
    ASSERT_TRUE(log.ok()) << log.status();
    for (uint64_t i = 0; i < 40; ++i) {
      Message m = Sample(i);
      auto appended = (*log)->Append({EncodeMessage(m)}, m.time_ms);
      ASSERT_TRUE(appended.ok()) << appended.status();
      (*log)->Commit({m}, *appended);
    }
    EXPECT_EQ((*log)->next_offset(), 40u);
    EXPECT_GT((*log)->first_offset(), 0u);  // the oldest segments went
    EXPECT_LT(ReadAll(**log, 0).size(), 40u);
  }
  std::vector<uint64_t> visited;
  auto reopened =
      TopicLog::Open(dir, options, [&](const Message& m) { visited.push_back(m.offset); });
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->next_offset(), 40u);
  uint64_t first = (*reopened)->first_offset();
  std::vector<Message> all = ReadAll(**reopened, 0);
  ASSERT_EQ(all.size(), 40 - first);
  EXPECT_EQ(all.front(), Sample(first));
  EXPECT_EQ(all.back(), Sample(39));
  EXPECT_EQ(visited.size(), all.size());
  std::filesystem::remove_all(dir);
}

// The cache is bounded by the memory its messages hold, not by their payloads: tiny payloads
// (the common case for events) otherwise filled 4 MiB of cache with 400 bytes a message.
TEST(TopicLog, TheCacheCountsWhatAMessageHolds) {
  auto dir = FreshDir("cache");
  RetentionOptions options;
  options.tail_cache_bytes = 64 << 10;
  auto log = TopicLog::Open(dir, options);
  ASSERT_TRUE(log.ok()) << log.status();
  for (uint64_t i = 0; i < 10'000; i += 100) {
    std::vector<Message> batch;
    std::vector<std::string> records;
    for (uint64_t j = i; j < i + 100; ++j) {
      batch.push_back(Sample(j, "x"));
      batch.back().headers = {{"traceparent", std::string(55, 'f')}};
      records.push_back(EncodeMessage(batch.back()));
    }
    auto appended = (*log)->Append(records, batch.back().time_ms);
    ASSERT_TRUE(appended.ok()) << appended.status();
    (*log)->Commit(batch, *appended);
  }
  EXPECT_LE((*log)->cached_bytes(), options.tail_cache_bytes);
  EXPECT_LT((*log)->cached_messages(), options.tail_cache_bytes / sizeof(Message));
  EXPECT_GT((*log)->cached_messages(), 0u);
  std::vector<Message> newest = ReadAll(**log, 9'990);
  ASSERT_EQ(newest.size(), 10u);
  EXPECT_EQ(newest.back().offset, 9'999u);
  std::filesystem::remove_all(dir);
}

// Only a small tail stays in memory: older messages come from the segment files, across
// segment boundaries and in runs of any length, before and after a reopen.
TEST(TopicLog, ReadsOlderMessagesFromItsFiles) {
  auto dir = FreshDir("disk");
  RetentionOptions options;
  options.segment_bytes = 2000;
  options.tail_cache_bytes = 50;  // about ten payloads
  auto check = [](const TopicLog& log) {
    for (uint64_t from : {0, 1, 17, 150, 195, 199}) {
      for (size_t limit : {1, 3, 64, 500}) {
        std::vector<Message> got = ReadAll(log, from, limit);
        ASSERT_EQ(got.size(), std::min<size_t>(limit, 200 - from)) << from << " " << limit;
        for (size_t i = 0; i < got.size(); ++i) {
          ASSERT_EQ(got[i], Sample(from + i, "payload" + std::to_string(from + i)));
        }
      }
    }
    EXPECT_TRUE(ReadAll(log, 200).empty());
  };
  {
    auto log = TopicLog::Open(dir, options);
    ASSERT_TRUE(log.ok()) << log.status();
    for (uint64_t i = 0; i < 200; i += 4) {  // batches of four, as group commit makes them
      std::vector<Message> batch;
      std::vector<std::string> records;
      for (uint64_t j = i; j < i + 4; ++j) {
        batch.push_back(Sample(j, "payload" + std::to_string(j)));
        records.push_back(EncodeMessage(batch.back()));
      }
      auto appended = (*log)->Append(records, batch.back().time_ms);
      ASSERT_TRUE(appended.ok()) << appended.status();
      (*log)->Commit(batch, *appended);
    }
    EXPECT_EQ((*log)->first_offset(), 0u);
    check(**log);
  }
  auto reopened = TopicLog::Open(dir, options);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  check(**reopened);
  std::filesystem::remove_all(dir);
}

class BrokerTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = FreshDir("broker"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Publishes and runs the loop until answered.
  absl::StatusOr<Broker::Published> Publish(Broker& broker, const std::string& topic,
                                            std::string id, std::string payload) {
    absl::StatusOr<Broker::Published> result = absl::UnknownError("no answer");
    broker.Publish(topic, {std::move(id), "", {}, std::move(payload)},
                   [&](absl::StatusOr<Broker::Published> r) { result = std::move(r); });
    io_.restart();
    io_.run();
    return result;
  }

  net::asio::io_context io_;
  std::filesystem::path dir_;
};

TEST_F(BrokerTest, OffsetsDurableAcrossReopenAndDedupByid) {
  {
    auto broker = EmbeddedBroker::Open(io_, dir_);
    ASSERT_TRUE(broker.ok()) << broker.status();
    for (int i = 0; i < 3; ++i) {
      auto published = Publish(**broker, "orders", "", "m" + std::to_string(i));
      ASSERT_TRUE(published.ok()) << published.status();
      EXPECT_EQ(published->offset, static_cast<uint64_t>(i));
      EXPECT_FALSE(published->duplicate);
    }
    auto first = Publish(**broker, "orders", "same-id", "x");
    auto again = Publish(**broker, "orders", "same-id", "y");
    ASSERT_TRUE(first.ok() && again.ok());
    EXPECT_EQ(again->offset, first->offset);
    EXPECT_TRUE(again->duplicate);
    EXPECT_FALSE(Publish(**broker, "bad/name", "", "x").ok());
  }
  auto reopened = EmbeddedBroker::Open(io_, dir_);
  ASSERT_TRUE(reopened.ok());
  auto topics = (*reopened)->Topics();
  ASSERT_EQ(topics.size(), 1u);
  EXPECT_EQ(topics[0].name, "orders");
  EXPECT_EQ(topics[0].next_offset, 4u);
  std::optional<absl::StatusOr<std::vector<Message>>> messages;
  (*reopened)->Read("orders", 1, 2, [&](absl::StatusOr<std::vector<Message>> r) { messages = r; });
  EXPECT_FALSE(messages.has_value());  // answered from the loop, never before Read returns
  io_.restart();
  io_.run();
  ASSERT_TRUE(messages.has_value() && messages->ok());
  auto& read = **messages;
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].payload, "m1");
  auto dup = Publish(**reopened, "orders", "same-id", "z");  // the window survives restarts
  ASSERT_TRUE(dup.ok());
  EXPECT_TRUE(dup->duplicate);
}

TEST_F(BrokerTest, ARepeatInFlightWaitsForTheFirst) {
  auto broker = EmbeddedBroker::Open(io_, dir_);
  ASSERT_TRUE(broker.ok());
  std::vector<Broker::Published> answers;
  for (int i = 0; i < 2; ++i) {
    (*broker)->Publish("t", {"dup", "", {}, "p"}, [&](absl::StatusOr<Broker::Published> r) {
      ASSERT_TRUE(r.ok());
      answers.push_back(*r);
    });
  }
  io_.run();
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0].offset, answers[1].offset);
  EXPECT_EQ((*broker)->Topics()[0].messages, 1u);
}

}  // namespace
}  // namespace gantry::broker
