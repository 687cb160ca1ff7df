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

asio::awaitable<void> Serve(tcp::socket socket, Deliveries& f) {
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
      answer = f.StatsJson();
    } else if (head.rfind("post /reset", 0) == 0) {
      f = Deliveries{};
    } else if (head.rfind("post ", 0) == 0) {
      f.Record(body, arrived_ns);
    }
    std::string response =
        "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(answer.size()) + "\r\n\r\n" + answer;
    co_await asio::async_write(socket, asio::buffer(response), asio::use_awaitable);
  }
}

asio::awaitable<void> Accept(tcp::acceptor& acceptor, Deliveries& f) {
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
  Deliveries figures;
  asio::co_spawn(io, Accept(acceptor, figures), asio::detached);
  io.run();
  return 0;
}

}  // namespace gantry::bench
