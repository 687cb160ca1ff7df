// The replica gantry pushes bench messages to: answers every POST with 200 and keeps each
// message's publish-to-delivery latency. GET /stats answers the figures as JSON; POST /reset
// clears them (the bench script reuses one agent for several rounds).
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include "broker/broker_bench.h"
#include "broker/publishers.h"
#include "http_client.h"
#include "net/asio.h"

namespace gantry::bench {

namespace asio = net::asio;
using net::tcp;

namespace {

struct Figures {
  int64_t received = 0;
  std::vector<double> latencies_us;  // measured (not warm-up) messages only
};

std::string Stats(Figures& f) {
  std::vector<double> sorted = f.latencies_us;
  std::sort(sorted.begin(), sorted.end());
  char out[256];
  std::snprintf(out, sizeof out,
                "{\"received\":%lld,\"measured\":%zu,\"p50_us\":%.0f,\"p99_us\":%.0f,"
                "\"p999_us\":%.0f,\"max_us\":%.0f}",
                static_cast<long long>(f.received), sorted.size(), Percentile(sorted, 0.5),
                Percentile(sorted, 0.99), Percentile(sorted, 0.999),
                sorted.empty() ? 0.0 : sorted.back());
  return out;
}

asio::awaitable<void> Serve(tcp::socket socket, Figures& f) {
  std::string buffer;
  for (;;) {
    size_t head_end = co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer),
                                                      "\r\n\r\n", asio::use_awaitable);
    int64_t arrived_ns = NowNs();
    std::string head = buffer.substr(0, head_end);
    buffer.erase(0, head_end);
    for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t length = 0;
    if (auto pos = head.find("content-length:"); pos != std::string::npos)
      length = std::strtoul(head.c_str() + pos + 15, nullptr, 10);
    co_await Fill(socket, buffer, length);
    std::string body = buffer.substr(0, length);
    buffer.erase(0, length);
    std::string answer;
    if (head.rfind("get /stats", 0) == 0) {
      answer = Stats(f);
    } else if (head.rfind("post /reset", 0) == 0) {
      f = Figures{};
    } else if (head.rfind("post ", 0) == 0) {
      ++f.received;
      int64_t scheduled_ns = 0;
      char flag = 0;
      if (ReadStamp(body, scheduled_ns, flag) && flag == 'm') {
        f.latencies_us.push_back(static_cast<double>(arrived_ns - scheduled_ns) / 1000.0);
      }
    }
    std::string response =
        "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(answer.size()) + "\r\n\r\n" + answer;
    co_await asio::async_write(socket, asio::buffer(response), asio::use_awaitable);
  }
}

asio::awaitable<void> Accept(tcp::acceptor& acceptor, Figures& f) {
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), Serve(std::move(socket), f), asio::detached);
  }
}

}  // namespace

int RunSink(const Options& o) {
  asio::io_context io(1);
  tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), o.port});
  Figures figures;
  asio::co_spawn(io, Accept(acceptor, figures), asio::detached);
  io.run();
  return 0;
}

}  // namespace gantry::bench
