#include "broker/publishers.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>

#include <boost/asio/write.hpp>

#include "broker/peer_clients.h"
#include "http_client.h"

namespace gantry::bench {

namespace asio = net::asio;
using net::tcp;

namespace {

class GantryPublisher : public Publisher {
 public:
  GantryPublisher(tcp::socket socket, std::string topic)
      : socket_(std::move(socket)), target_("/api/v1/topics/" + topic) {}
  asio::awaitable<bool> Publish(const std::string& payload) override {
    co_await asio::async_write(socket_, asio::buffer(Http("POST", target_, payload)),
                               asio::use_awaitable);
    co_return co_await ReadResponse(socket_, buffer_, nullptr) == 200;
  }

 private:
  tcp::socket socket_;
  std::string target_;
  std::string buffer_;
};

class NatsPublisher : public Publisher {
 public:
  NatsPublisher(NatsConn conn, std::string subject)
      : conn_(std::move(conn)), subject_(std::move(subject)) {}
  asio::awaitable<bool> Publish(const std::string& payload) override {
    std::string ack = co_await conn_.Request(subject_, payload);
    co_return ack.find("\"seq\"") != std::string::npos&& ack.find("\"error\"") == std::string::npos;
  }

 private:
  NatsConn conn_;
  std::string subject_;
};

class RedisPublisher : public Publisher {
 public:
  RedisPublisher(tcp::socket socket, std::string key) : socket_(std::move(socket)), key_(key) {}
  asio::awaitable<bool> Publish(const std::string& payload) override {
    // Built before the co_await: GCC 12 miscompiles braced lists inside co_await expressions.
    std::string command = RespCommand({"XADD", key_, "*", "d", payload});
    co_await asio::async_write(socket_, asio::buffer(command), asio::use_awaitable);
    RespValue reply = co_await ReadResp(socket_, buffer_);
    co_return reply.kind == '$' && !reply.nil;
  }

 private:
  tcp::socket socket_;
  std::string key_;
  std::string buffer_;
};

}  // namespace

asio::awaitable<void> Prepare(const Options& o) {
  if (o.system != "nats") co_return;
  // A file-backed stream over every bench subject, as a JetStream user would make for a topic.
  NatsConn conn = co_await NatsConn::Open(o.addr);
  std::string answer = co_await conn.Request(
      "$JS.API.STREAM.CREATE.BENCH",
      R"({"name":"BENCH","subjects":["bench.>"],"storage":"file","retention":"limits",)"
      R"("discard":"old","num_replicas":1})");
  if (answer.find("\"error\"") != std::string::npos &&
      answer.find("already in use") == std::string::npos) {
    throw std::runtime_error("nats: stream create: " + answer);
  }
}

asio::awaitable<std::unique_ptr<Publisher>> OpenPublisher(const Options& o,
                                                          const std::string& topic) {
  if (o.system == "nats") {
    co_return std::make_unique<NatsPublisher>(co_await NatsConn::Open(o.addr), topic);
  }
  tcp::socket socket = co_await Connect(o.addr);
  if (o.system == "redis") co_return std::make_unique<RedisPublisher>(std::move(socket), topic);
  co_return std::make_unique<GantryPublisher>(std::move(socket), topic);
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string StampedPayload(int64_t scheduled_ns, char flag) {
  char stamp[32];
  int n =
      std::snprintf(stamp, sizeof stamp, "%020lld%c", static_cast<long long>(scheduled_ns), flag);
  std::string payload(stamp, static_cast<size_t>(n));
  payload.resize(kMessageBytes, 'x');
  return payload;
}

bool ReadStamp(std::string_view payload, int64_t& scheduled_ns, char& flag) {
  if (payload.size() < 21) return false;
  scheduled_ns = 0;
  for (size_t i = 0; i < 20; ++i) {
    char c = payload[i];
    if (c < '0' || c > '9') return false;
    scheduled_ns = scheduled_ns * 10 + (c - '0');
  }
  flag = payload[20];
  return true;
}

void Deliveries::Record(std::string_view payload, int64_t arrived_ns) {
  ++received;
  int64_t scheduled_ns = 0;
  char flag = 0;
  if (ReadStamp(payload, scheduled_ns, flag) && flag == 'm') {
    latencies_us.push_back(static_cast<double>(arrived_ns - scheduled_ns) / 1000.0);
  }
}

std::string Deliveries::StatsJson() const {
  std::vector<double> sorted = latencies_us;
  std::sort(sorted.begin(), sorted.end());
  char out[256];
  std::snprintf(out, sizeof out,
                "{\"received\":%lld,\"measured\":%zu,\"p50_us\":%.0f,\"p99_us\":%.0f,"
                "\"p999_us\":%.0f,\"max_us\":%.0f}",
                static_cast<long long>(received), sorted.size(), Percentile(sorted, 0.5),
                Percentile(sorted, 0.99), Percentile(sorted, 0.999),
                sorted.empty() ? 0.0 : sorted.back());
  return out;
}

}  // namespace gantry::bench
