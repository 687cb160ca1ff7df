#include "broker/broker.h"

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
      auto retained = (*log)->Append({EncodeMessage(m)}, m.time_ms);
      ASSERT_TRUE(retained.ok()) << retained.status();
      (*log)->Commit({m}, *retained);
    }
    EXPECT_EQ((*log)->next_offset(), 40u);
    EXPECT_GT((*log)->first_offset(), 0u);  // the oldest segments went
    EXPECT_LT((*log)->messages().size(), 40u);
  }
  auto reopened = TopicLog::Open(dir, options);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->next_offset(), 40u);
  EXPECT_EQ((*reopened)->messages().back(), Sample(39));
  uint64_t first = (*reopened)->first_offset();
  EXPECT_EQ((*reopened)->messages().front(), Sample(first));
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
    auto broker = Broker::Open(io_, dir_);
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
  auto reopened = Broker::Open(io_, dir_);
  ASSERT_TRUE(reopened.ok());
  auto topics = (*reopened)->Topics();
  ASSERT_EQ(topics.size(), 1u);
  EXPECT_EQ(topics[0].name, "orders");
  EXPECT_EQ(topics[0].next_offset, 4u);
  auto messages = (*reopened)->Read("orders", 1, 2);
  ASSERT_TRUE(messages.ok());
  ASSERT_EQ(messages->size(), 2u);
  EXPECT_EQ((*messages)[0].payload, "m1");
  auto dup = Publish(**reopened, "orders", "same-id", "z");  // the window survives restarts
  ASSERT_TRUE(dup.ok());
  EXPECT_TRUE(dup->duplicate);
}

TEST_F(BrokerTest, ARepeatInFlightWaitsForTheFirst) {
  auto broker = Broker::Open(io_, dir_);
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
