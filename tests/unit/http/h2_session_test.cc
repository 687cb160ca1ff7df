#include "http/h2_session.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace gantry::http::h2 {
namespace {

// Records what a session tells, by stream.
struct Recorder : SessionHandler {
  struct Stream {
    std::vector<std::vector<std::pair<std::string, std::string>>> blocks;
    std::string data;
    bool ended = false;
    bool closed = false;
    uint32_t error = 0;
  };
  std::map<int32_t, Stream> streams;
  size_t data_sent = 0;
  bool consume_at_once = true;
  Session* self = nullptr;

  void OnHeaders(int32_t stream, std::span<const Field> fields, bool end_stream) override {
    auto& block = streams[stream].blocks.emplace_back();
    for (const Field& f : fields) block.emplace_back(f.name, f.value);
    if (end_stream) streams[stream].ended = true;
  }
  void OnData(int32_t stream, std::string_view data) override {
    streams[stream].data.append(data);
    if (consume_at_once) self->Consume(stream, data.size());
  }
  void OnEndStream(int32_t stream) override { streams[stream].ended = true; }
  void OnStreamClose(int32_t stream, uint32_t error) override {
    streams[stream].closed = true;
    streams[stream].error = error;
  }
  void OnDataSent(int32_t, size_t bytes) override { data_sent += bytes; }
};

std::string Find(const std::vector<std::pair<std::string, std::string>>& block,
                 std::string_view name) {
  for (auto& [n, v] : block)
    if (n == name) return v;
  return "";
}

class H2SessionTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(Limits{}); }

  void Open(const Limits& server_limits) {
    server_ = Session::Server(server_events_, server_limits);
    client_ = Session::Client(client_events_, Limits{});
    server_events_.self = server_.get();
    client_events_.self = client_.get();
  }

  // Moves frames both ways until neither side has anything to say. Returns the server's
  // receive status (the first failure).
  absl::Status Pump(std::string prefix = "") {
    absl::Status status;
    for (int round = 0; round < 1000; ++round) {
      std::string to_server = prefix, to_client;
      prefix.clear();
      client_->TakeOutput(to_server);
      if (!to_server.empty() && status.ok()) status = server_->Receive(to_server);
      server_->TakeOutput(to_client);
      if (!to_client.empty()) (void)client_->Receive(to_client);
      if (to_server.empty() && to_client.empty()) break;
    }
    return status;
  }

  int32_t Request(std::string_view path, bool end_stream) {
    std::vector<Field> fields = {{":method", "POST"},
                                 {":scheme", "http"},
                                 {":authority", "svc"},
                                 {":path", path},
                                 {"content-type", "application/grpc"}};
    return client_->SubmitRequest(fields, end_stream);
  }

  Recorder server_events_, client_events_;
  std::unique_ptr<Session> server_, client_;
};

TEST_F(H2SessionTest, RequestAndResponseWithBodiesAndTrailers) {
  int32_t stream = Request("/pkg.Svc/Call", false);
  ASSERT_GT(stream, 0);
  client_->SendData(stream, "hello");
  client_->SendEnd(stream);
  ASSERT_TRUE(Pump().ok());
  auto& request = server_events_.streams[stream];
  ASSERT_EQ(request.blocks.size(), 1u);
  EXPECT_EQ(Find(request.blocks[0], ":path"), "/pkg.Svc/Call");
  EXPECT_EQ(Find(request.blocks[0], "content-type"), "application/grpc");
  EXPECT_EQ(request.data, "hello");
  EXPECT_TRUE(request.ended);

  std::vector<Field> head = {{":status", "200"}, {"content-type", "application/grpc"}};
  ASSERT_TRUE(server_->SubmitResponse(stream, head, false));
  server_->SendData(stream, "world");
  std::vector<Field> trailers = {{"grpc-status", "0"}};
  server_->SendEnd(stream, trailers);
  ASSERT_TRUE(Pump().ok());
  auto& response = client_events_.streams[stream];
  ASSERT_EQ(response.blocks.size(), 2u);
  EXPECT_EQ(Find(response.blocks[0], ":status"), "200");
  EXPECT_EQ(response.data, "world");
  EXPECT_EQ(Find(response.blocks[1], "grpc-status"), "0");
  EXPECT_TRUE(response.ended);
  EXPECT_TRUE(response.closed);
  EXPECT_EQ(response.error, 0u);
  EXPECT_EQ(server_events_.data_sent, 5u);
  EXPECT_EQ(client_->OpenStreams(), 0u);
}

TEST_F(H2SessionTest, DataWaitsForTheReceiverToConsume) {
  client_events_.consume_at_once = false;
  int32_t stream = Request("/big", true);
  ASSERT_TRUE(Pump().ok());
  std::vector<Field> head = {{":status", "200"}};
  ASSERT_TRUE(server_->SubmitResponse(stream, head, false));
  server_->SendData(stream, std::string(1024 * 1024, 'x'));
  server_->SendEnd(stream);
  ASSERT_TRUE(Pump().ok());
  // The client's stream window (256 KiB) holds the rest back on the server.
  size_t received = client_events_.streams[stream].data.size();
  EXPECT_EQ(received, Limits{}.stream_window);
  EXPECT_EQ(server_->Queued(stream), 1024 * 1024 - received);
  client_->Consume(stream, received);
  ASSERT_TRUE(Pump().ok());
  EXPECT_EQ(client_events_.streams[stream].data.size(), 2 * received);
}

TEST_F(H2SessionTest, OversizedHeaderBlocksAreRefusedThenTheConnectionEnds) {
  Limits limits;
  limits.max_header_list = 4096;
  limits.max_oversized_headers = 2;
  Open(limits);
  std::string big(3000, 'a');
  std::vector<Field> fields = {{":method", "GET"}, {":scheme", "http"}, {":authority", "svc"},
                               {":path", "/"},     {"x-a", big},        {"x-b", big}};
  int32_t first = client_->SubmitRequest(fields, true);
  ASSERT_TRUE(Pump().ok());
  EXPECT_TRUE(server_events_.streams[first].blocks.empty());  // never seen as a request
  EXPECT_EQ(client_events_.streams[first].error, kRefusedStream);
  for (int i = 0; i < 3; ++i) client_->SubmitRequest(fields, true);
  (void)Pump();
  EXPECT_FALSE(server_->Alive());  // GOAWAY after the third
}

TEST_F(H2SessionTest, AClientRefusingAnOversizedResponseDoesNotSayRefusedStream) {
  // REFUSED_STREAM would tell the proxy that the replica never acted on the request (so safe
  // to retry); a response too big to take says nothing of the kind.
  Limits small;
  small.max_header_list = 4096;
  client_ = Session::Client(client_events_, small);
  client_events_.self = client_.get();
  int32_t stream = Request("/x", true);
  ASSERT_TRUE(Pump().ok());
  std::string big(5000, 'b');
  std::vector<Field> head = {{":status", "200"}, {"x-big", big}};
  ASSERT_TRUE(server_->SubmitResponse(stream, head, true));
  (void)Pump();
  EXPECT_TRUE(client_events_.streams[stream].closed);
  EXPECT_EQ(client_events_.streams[stream].error, kInternalError);
}

TEST_F(H2SessionTest, ABadPrefaceFails) {
  auto server = Session::Server(server_events_, Limits{});
  EXPECT_FALSE(server->Receive("GET / HTTP/1.1\r\nHost: x\r\n\r\n").ok());
}

TEST_F(H2SessionTest, RapidResetEndsTheConnection) {
  auto started = std::chrono::steady_clock::now();
  absl::Status status;
  for (int i = 0; i < 2000 && status.ok(); ++i) {
    int32_t stream = Request("/", true);
    if (stream == 0) break;
    std::string headers;
    client_->TakeOutput(headers);  // the request goes out, then at once its reset
    status = server_->Receive(headers);
    client_->Reset(stream, kCancel);
    status = Pump();
  }
  EXPECT_FALSE(server_->Alive()) << "2,000 resets in a burst were accepted";
  // The bucket refills at reset_rate per second meanwhile (a loaded machine takes longer).
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  auto refilled = static_cast<size_t>(seconds * static_cast<double>(Limits{}.reset_rate)) + 1;
  EXPECT_LE(server_events_.streams.size(), Limits{}.reset_burst + 1 + refilled);
}

TEST_F(H2SessionTest, ConcurrentStreamsAreBoundedByTheServersSetting) {
  Limits limits;
  limits.max_concurrent_streams = 2;
  Open(limits);
  ASSERT_TRUE(Pump().ok());  // settings exchanged
  EXPECT_GT(Request("/1", false), 0);
  EXPECT_GT(Request("/2", false), 0);
  EXPECT_FALSE(client_->CanOpenStream());
}

}  // namespace
}  // namespace gantry::http::h2
