// What every Broker promises, run against each backend: the embedded one, and JetStream on a
// real nats-server the test starts.
#include <gtest/gtest.h>

#include <filesystem>
#include <optional>

#include "broker/broker.h"
#include "broker/embedded_broker.h"
#include "broker/jetstream/jetstream_broker.h"
#include "broker/jetstream/nats_names.h"
#include "store/embedded_store.h"
#include "unit/broker/nats_process.h"
#include "unit/store/store_test_support.h"

namespace gantry::broker {
namespace {

using store::testing::Await;
using store::testing::RunFor;
using store::testing::RunUntil;

enum class Backend { kEmbedded, kJetStream };

class BrokerContractTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    dir_ = store::testing::FreshDir("broker-contract");
    store::EmbeddedStoreOptions store_options;
    store_options.dir = dir_ / "store";
    auto store = store::EmbeddedStore::Open(io_, store_options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    if (GetParam() == Backend::kEmbedded) {
      auto broker = EmbeddedBroker::Open(io_, dir_ / "broker");
      ASSERT_TRUE(broker.ok()) << broker.status();
      broker_ = std::move(*broker);
      return;
    }
    nats_ = std::make_unique<testing::NatsProcess>(dir_ / "nats");
    ASSERT_TRUE(nats_->running()) << "nats-server did not start: see " << dir_ / "nats";
    JetStreamOptions options;
    options.servers = {nats_->endpoint()};
    options.app = "contract";
    auto broker = JetStreamBroker::Open(io_, options);
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = std::move(*broker);
  }
  void TearDown() override {
    broker_.reset();
    nats_.reset();
    std::filesystem::remove_all(dir_);
  }

  absl::StatusOr<Broker::Published> Publish(const std::string& topic, std::string payload,
                                            std::string id = "", std::string key = "") {
    return Await<Broker::Published>(io_, [&](store::Done<Broker::Published> done) {
      broker_->Publish(
          topic, {std::move(id), std::move(key), {{"traceparent", "00-ab"}}, std::move(payload)},
          std::move(done));
    });
  }
  absl::StatusOr<std::vector<Message>> Read(const std::string& topic, uint64_t from, size_t n) {
    return Await<std::vector<Message>>(io_, [&](store::Done<std::vector<Message>> done) {
      broker_->Read(topic, from, n, std::move(done));
    });
  }
  absl::StatusOr<std::vector<Message>> Fetch(Consumer& consumer, size_t max) {
    return Await<std::vector<Message>>(
        io_, [&](store::Done<std::vector<Message>> done) { consumer.Fetch(max, std::move(done)); });
  }

  std::filesystem::path dir_;
  net::asio::io_context io_;
  std::unique_ptr<store::EmbeddedStore> store_;
  std::unique_ptr<testing::NatsProcess> nats_;
  std::unique_ptr<Broker> broker_;
};

TEST_P(BrokerContractTest, OffsetsCountFromZeroAndARepeatedIdIsStoredOnce) {
  for (uint64_t i = 0; i < 3; ++i) {
    auto published = Publish("orders.eu", "m" + std::to_string(i));
    ASSERT_TRUE(published.ok()) << published.status();
    EXPECT_EQ(published->offset, i);
    EXPECT_FALSE(published->id.empty());
    EXPECT_FALSE(published->duplicate);
  }
  auto first = Publish("orders.eu", "x", "order-7", "customer-1");
  auto again = Publish("orders.eu", "y", "order-7");
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->offset, 3u);
  EXPECT_EQ(again->offset, 3u);
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(broker_->NextOffset("orders.eu"), 4u);

  auto read = Read("orders.eu", 2, 10);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0].offset, 2u);
  EXPECT_EQ((*read)[0].payload, "m2");
  const Message& keyed = (*read)[1];
  EXPECT_EQ(keyed.id, "order-7");
  EXPECT_EQ(keyed.key, "customer-1");
  EXPECT_EQ(keyed.payload, "x");
  ASSERT_EQ(keyed.headers.size(), 1u);
  EXPECT_EQ(keyed.headers[0], std::make_pair(std::string("traceparent"), std::string("00-ab")));
  EXPECT_GT(keyed.time_ms, 1'700'000'000'000);
  EXPECT_EQ(Read("never-published", 0, 10).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(BrokerContractTest, BadInputIsRefused) {
  EXPECT_EQ(Publish("bad/name", "x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Publish("big", std::string((size_t{1} << 20) + 1, 'x')).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// A consumer group goes on from its committed offset: acknowledgements out of order commit only
// what has no gap before it, a new consumer of the group (after a restart) starts there, and a
// fetch waits for a publish when it has read everything.
TEST_P(BrokerContractTest, AConsumerGroupGoesOnFromItsCommittedOffset) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Publish("jobs", std::to_string(i)).ok());
  {
    auto consumer = broker_->Consume("jobs", "worker", *store_);
    auto first = Fetch(*consumer, 3);
    ASSERT_TRUE(first.ok()) << first.status();
    ASSERT_FALSE(first->empty());
    EXPECT_EQ((*first)[0].offset, 0u);
    std::vector<Message> got = *first;
    while (got.size() < 5) {
      auto more = Fetch(*consumer, 10);
      ASSERT_TRUE(more.ok()) << more.status();
      got.insert(got.end(), more->begin(), more->end());
    }
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].offset, i);
    consumer->Ack(got[0]);
    consumer->Ack(got[2]);  // 1 is still out
    EXPECT_EQ(consumer->committed(), 1u);
    // Until the group's progress is stored (the embedded broker's offset write, JetStream's
    // acknowledgement on its way).
    RunUntil(io_, [&] { return store_->writes_in_progress() == 0; });
    RunFor(io_, std::chrono::milliseconds(200));
  }
  auto again = broker_->Consume("jobs", "worker", *store_);
  std::vector<Message> redelivered;
  while (redelivered.size() < 4) {
    auto more = Fetch(*again, 10);
    ASSERT_TRUE(more.ok()) << more.status();
    redelivered.insert(redelivered.end(), more->begin(), more->end());
  }
  ASSERT_EQ(redelivered.size(), 4u);  // 1 to 4: only 0 was committed
  EXPECT_EQ(redelivered[0].offset, 1u);
  EXPECT_EQ(again->committed(), 1u);
  for (const Message& m : redelivered) again->Ack(m);
  EXPECT_EQ(again->committed(), 5u);

  std::optional<absl::StatusOr<std::vector<Message>>> waiting;
  again->Fetch(10, [&](absl::StatusOr<std::vector<Message>> r) { waiting = std::move(r); });
  RunFor(io_, std::chrono::milliseconds(300));
  EXPECT_FALSE(waiting.has_value());  // nothing new yet
  ASSERT_TRUE(Publish("jobs", "late").ok());
  ASSERT_TRUE(RunUntil(io_, [&] { return waiting.has_value(); }));
  ASSERT_TRUE(waiting->ok());
  ASSERT_EQ((*waiting)->size(), 1u);
  EXPECT_EQ((**waiting)[0].payload, "late");

  auto other = broker_->Consume("jobs", "auditor", *store_);  // a new group: from the oldest
  std::vector<Message> all;
  while (all.size() < 6) {
    auto more = Fetch(*other, 100);
    ASSERT_TRUE(more.ok()) << more.status();
    all.insert(all.end(), more->begin(), more->end());
  }
  EXPECT_EQ(all.size(), 6u);
}

INSTANTIATE_TEST_SUITE_P(Backends, BrokerContractTest,
                         ::testing::Values(Backend::kEmbedded, Backend::kJetStream),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kEmbedded ? "Embedded" : "JetStream";
                         });

TEST(NatsNames, EscapingIsOneToOneAndStaysWithinNatsNames) {
  jetstream::Names names{jetstream::Escape("my_app.v2")};
  for (std::string topic : {"orders", "orders.eu", "a_b", "a__b._d", "_s", "x_"}) {
    std::string stream = names.Stream(topic);
    EXPECT_EQ(stream.find('.'), std::string::npos) << stream;
    EXPECT_EQ(names.TopicOf(stream), topic) << stream;
    EXPECT_EQ(names.Subject(topic).rfind("gantry.my__app_dv2.", 0), 0u);
  }
  EXPECT_NE(names.Stream("a.b"), names.Stream("a_b"));
  EXPECT_EQ(names.TopicOf("KV_other"), "");
  jetstream::Names other{jetstream::Escape("my")};
  EXPECT_EQ(other.TopicOf(names.Stream("x")), "");  // another app's stream
}

}  // namespace
}  // namespace gantry::broker
