// Publish-to-delivery latency at a fixed rate. `lanes` connections share the schedule: message
// i is due at start + i / rate and goes out on lane i % lanes as soon as that lane is free and
// the time has come. The first 10% are warm-up (flag 'w'), the rest measured ('m').
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "broker/broker_bench.h"
#include "broker/peer_clients.h"
#include "broker/publishers.h"
#include "http_client.h"

namespace gantry::bench {

namespace asio = net::asio;
using net::tcp;

namespace {

struct Run {
  int64_t total = 0;
  int64_t start_ns = 0;
  int64_t interval_ns = 0;
  int64_t published = 0;
  int64_t publish_errors = 0;
  std::vector<double> ack_us;
  Deliveries deliveries;  // the in-process consumer's (JetStream, Redis)
};

asio::awaitable<void> Lane(const Options& o, int lane, Run& run) {
  auto publisher = co_await OpenPublisher(o, kLatencyTopic);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  int64_t warmup = run.total / 10;
  for (int64_t i = lane; i < run.total; i += o.lanes) {
    int64_t due_ns = run.start_ns + i * run.interval_ns;
    if (int64_t wait = due_ns - NowNs(); wait > 0) {
      timer.expires_after(std::chrono::nanoseconds(wait));
      co_await timer.async_wait(asio::use_awaitable);
    }
    int64_t sent_ns = NowNs();
    if (!co_await publisher->Publish(StampedPayload(due_ns, i < warmup ? 'w' : 'm'))) {
      ++run.publish_errors;
    }
    ++run.published;
    run.ack_us.push_back(static_cast<double>(NowNs() - sent_ns) / 1000.0);
  }
}

// A durable JetStream consumer pushing to this connection; every message acknowledged.
asio::awaitable<void> NatsConsumer(const Options& o, Run& run, int64_t deadline_ns) {
  NatsConn conn = co_await NatsConn::Open(o.addr);
  co_await conn.Sub("sink.deliver", 2);
  std::string created = co_await conn.Request(
      "$JS.API.CONSUMER.DURABLE.CREATE.BENCH.sink",
      R"({"stream_name":"BENCH","config":{"durable_name":"sink","deliver_subject":"sink.deliver",)"
      R"("deliver_policy":"new","ack_policy":"explicit","filter_subject":"bench.lat",)"
      R"("max_ack_pending":20000}})");
  if (created.find("\"error\"") != std::string::npos) {
    throw std::runtime_error("nats: consumer create: " + created);
  }
  while (run.deliveries.received < run.total && NowNs() < deadline_ns) {
    NatsConn::Msg msg = co_await conn.Next();
    // Pushed messages keep their own subject; the ack subject tells them from other replies.
    if (msg.reply.rfind("$JS.ACK.", 0) != 0) continue;
    run.deliveries.Record(msg.payload, NowNs());
    co_await conn.Pub(msg.reply, "", "");
  }
}

// A Redis consumer group read with XREADGROUP; each batch acknowledged by one XACK, pipelined
// with the next read.
asio::awaitable<void> RedisConsumer(const Options& o, Run& run, int64_t deadline_ns) {
  tcp::socket socket = co_await Connect(o.addr);
  std::string buffer;
  // Built before the co_await: GCC 12 miscompiles braced lists inside co_await expressions.
  std::string create = RespCommand({"XGROUP", "CREATE", kLatencyTopic, "g", "$", "MKSTREAM"});
  co_await asio::async_write(socket, asio::buffer(create), asio::use_awaitable);
  RespValue created = co_await ReadResp(socket, buffer);
  if (created.kind == '-' && created.text.find("BUSYGROUP") == std::string::npos) {
    throw std::runtime_error("redis: " + created.text);
  }
  const std::string read = RespCommand({"XREADGROUP", "GROUP", "g", "c", "COUNT", "1000", "BLOCK",
                                        "200", "STREAMS", kLatencyTopic, ">"});
  bool ack_pending = false;
  while (run.deliveries.received < run.total && NowNs() < deadline_ns) {
    co_await asio::async_write(socket, asio::buffer(read), asio::use_awaitable);
    if (ack_pending) co_await ReadResp(socket, buffer);  // the XACK's count
    ack_pending = false;
    RespValue reply = co_await ReadResp(socket, buffer);
    int64_t arrived_ns = NowNs();
    if (reply.nil || reply.items.empty()) continue;
    std::vector<std::string> ack = {"XACK", kLatencyTopic, "g"};
    for (const RespValue& entry : reply.items[0].items[1].items) {  // [id, [field, value]]
      run.deliveries.Record(entry.items[1].items[1].text, arrived_ns);
      ack.push_back(entry.items[0].text);
    }
    co_await asio::async_write(socket, asio::buffer(RespCommand(ack)), asio::use_awaitable);
    ack_pending = true;
  }
}

// gantry's figures come from the sink replica it delivered to.
asio::awaitable<std::string> SinkCall(const Options& o, const std::string& method,
                                      const std::string& target) {
  tcp::socket socket = co_await Connect(o.sink);
  std::string buffer, body;
  co_await asio::async_write(socket, asio::buffer(Http(method, target, "")), asio::use_awaitable);
  if (co_await ReadResponse(socket, buffer, &body) != 200) throw std::runtime_error("sink call");
  co_return body;
}

int64_t JsonInt(const std::string& body, const std::string& name) {
  auto pos = body.find("\"" + name + "\":");
  return pos == std::string::npos ? 0 : std::atoll(body.c_str() + pos + name.size() + 3);
}

asio::awaitable<void> AwaitSink(const Options& o, Run& run, int64_t deadline_ns,
                                std::string& stats) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    stats = co_await SinkCall(o, "GET", "/stats");
    if (JsonInt(stats, "received") >= run.total || NowNs() > deadline_ns) co_return;
    timer.expires_after(std::chrono::milliseconds(50));
    co_await timer.async_wait(asio::use_awaitable);
  }
}

}  // namespace

int RunLatency(const Options& o) {
  asio::io_context io(1);
  Run run;
  run.total = static_cast<int64_t>(o.rate * o.seconds);
  run.interval_ns = static_cast<int64_t>(1e9 / o.rate);
  FirstFailure failure;
  auto on_done = failure.catcher();
  auto step = [&](asio::awaitable<void> work) {
    asio::co_spawn(io, std::move(work), on_done);
    io.run();
    io.restart();
  };
  step(Prepare(o));
  if (o.system == "gantry") {
    step([&]() -> asio::awaitable<void> { co_await SinkCall(o, "POST", "/reset"); }());
  }
  run.start_ns = NowNs() + 200'000'000;  // consumers subscribe first
  int64_t deadline_ns = run.start_ns + static_cast<int64_t>(o.seconds * 1e9) + 10'000'000'000;
  if (o.system == "nats") asio::co_spawn(io, NatsConsumer(o, run, deadline_ns), on_done);
  if (o.system == "redis") asio::co_spawn(io, RedisConsumer(o, run, deadline_ns), on_done);
  for (int lane = 0; lane < o.lanes && !failure; ++lane) {
    asio::co_spawn(io, Lane(o, lane, run), on_done);
  }
  io.run();
  io.restart();
  std::string stats;
  if (o.system == "gantry" && !failure) step(AwaitSink(o, run, deadline_ns, stats));
  if (failure) return failure.Report("broker_bench");
  if (o.system != "gantry") stats = run.deliveries.StatsJson();
  std::sort(run.ack_us.begin(), run.ack_us.end());
  // {"system", "test", "rate", "sent", "publish_errors", "ack_p50_us", "ack_p99_us", <stats>}
  std::printf(
      "{\"system\":\"%s\",\"test\":\"latency\",\"rate\":%.0f,\"sent\":%lld,"
      "\"publish_errors\":%lld,\"ack_p50_us\":%.0f,\"ack_p99_us\":%.0f,%s\n",
      o.system.c_str(), o.rate, static_cast<long long>(run.published),
      static_cast<long long>(run.publish_errors), Percentile(run.ack_us, 0.5),
      Percentile(run.ack_us, 0.99), stats.substr(1).c_str());
  return JsonInt(stats, "received") >= run.total && run.publish_errors == 0 ? 0 : 1;
}

}  // namespace gantry::bench
