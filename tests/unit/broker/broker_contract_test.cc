// What every Broker promises, run against each backend: the embedded one, and JetStream on a
// real nats-server the test starts.
#include <gtest/gtest.h>

#include <nats/nats.h>

#include <algorithm>
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

// JetStream counts a delivery as made once it has sent it; one lost on the way (a server of
// the cluster killed while forwarding a batch) would come again only after AckWait, an hour.
// Here another client takes deliveries from the group's durable consumer, so gantry's never
// gets them: they must come again, each handed out once, in a stream of fetches (the delivery
// sequence jumps) and at its end (the idle look finds the count above what came). The first
// ones taken are also acknowledged, as a server that lost the consumer's state might have it:
// gantry goes by what it acknowledged itself.
class LostDeliveryTest : public BrokerContractTest {
 protected:
  // Takes up to `n` deliveries from the group's consumer, as if they were lost, acknowledging
  // them when `ack`; their offsets.
  std::vector<uint64_t> Steal(const std::string& topic, const std::string& group, int n, bool ack) {
    jetstream::Names names{jetstream::Escape("contract")};
    std::string next =
        "$JS.API.CONSUMER.MSG.NEXT." + names.Stream(topic) + "." + jetstream::Escape(group);
    natsConnection* nc = nullptr;
    natsSubscription* sub = nullptr;
    std::vector<uint64_t> out;
    std::string url = "nats://" + nats_->endpoint();
    if (natsConnection_ConnectTo(&nc, url.c_str()) != NATS_OK) return out;
    natsInbox* inbox = nullptr;
    natsInbox_Create(&inbox);
    natsConnection_SubscribeSync(&sub, nc, inbox);
    std::string request = R"({"batch":)" + std::to_string(n) + R"(,"no_wait":true})";
    natsConnection_PublishRequestString(nc, next.c_str(), inbox, request.c_str());
    for (int i = 0; i < n; ++i) {
      natsMsg* msg = nullptr;
      if (natsSubscription_NextMsg(&msg, sub, 2000) != NATS_OK) break;
      jsMsgMetaData* meta = nullptr;
      if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
        out.push_back(meta->Sequence.Stream - 1);
        jsMsgMetaData_Destroy(meta);
      }
      natsMsg* answer = nullptr;  // an acknowledgement with a reply subject is answered
      if (ack && natsConnection_RequestString(&answer, nc, natsMsg_GetReply(msg), "+ACK", 2000) ==
                     NATS_OK) {
        natsMsg_Destroy(answer);
      }
      natsMsg_Destroy(msg);
    }
    natsSubscription_Destroy(sub);
    natsInbox_Destroy(inbox);
    natsConnection_Destroy(nc);
    return out;
  }
  // Fetches until `count` messages came (or 30 s went); their offsets, in order.
  std::vector<uint64_t> FetchOffsets(Consumer& consumer, size_t count) {
    std::vector<uint64_t> got;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (got.size() < count && std::chrono::steady_clock::now() < deadline) {
      auto more = Fetch(consumer, 100);
      if (!more.ok()) continue;
      for (const Message& m : *more) {
        got.push_back(m.offset);
        consumer.Ack(m);
      }
    }
    return got;
  }
};

TEST_P(LostDeliveryTest, DeliveriesLostOnTheWayComeAgainEachOnce) {
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Publish("jobs", std::to_string(i)).ok());
  auto consumer = broker_->Consume("jobs", "worker", *store_);
  std::vector<uint64_t> stolen;
  // The consumer's thread makes the durable consumer; until then there is nothing to take from.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (stolen.empty() && std::chrono::steady_clock::now() < deadline) {
    stolen = Steal("jobs", "worker", 3, /*ack=*/true);
  }
  ASSERT_EQ(stolen, (std::vector<uint64_t>{0, 1, 2}));
  std::vector<uint64_t> got = FetchOffsets(*consumer, 10);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<uint64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));

  // At the end of the stream: nothing comes after the lost ones to show the jump.
  for (int i = 10; i < 13; ++i) ASSERT_TRUE(Publish("jobs", std::to_string(i)).ok());
  EXPECT_EQ(Steal("jobs", "worker", 3, /*ack=*/false), (std::vector<uint64_t>{10, 11, 12}));
  got = FetchOffsets(*consumer, 3);
  EXPECT_EQ(got, (std::vector<uint64_t>{10, 11, 12}));
  // And nothing else comes again.
  std::optional<absl::StatusOr<std::vector<Message>>> extra;
  consumer->Fetch(100, [&](absl::StatusOr<std::vector<Message>> r) { extra = std::move(r); });
  RunFor(io_, std::chrono::milliseconds(5000));
  EXPECT_FALSE(extra.has_value());
  EXPECT_EQ(consumer->committed(), 13u);
}

INSTANTIATE_TEST_SUITE_P(Backends, LostDeliveryTest, ::testing::Values(Backend::kJetStream),
                         [](const ::testing::TestParamInfo<Backend>&) { return "JetStream"; });

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
