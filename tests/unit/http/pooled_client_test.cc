// PooledClient against a scripted server: connections are reused, a connection the server
// closed while idle is replaced without the caller seeing it, and the timeout holds.
#include "http/pooled_client.h"

#include <gtest/gtest.h>

#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "net/asio.h"

namespace gantry::http {
namespace {

namespace asio = net::asio;
using net::tcp;

// Answers each request with its target; closes a connection after `per_connection` answers;
// a target of /slow is never answered.
struct ScriptedServer {
  explicit ScriptedServer(asio::io_context& io, int per_connection)
      : acceptor(io, {asio::ip::make_address("127.0.0.1"), 0}), per_connection(per_connection) {
    asio::co_spawn(io, Accept(), asio::detached);
  }
  asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(net::kUseTuple);
      if (ec) co_return;
      ++accepted;
      asio::co_spawn(acceptor.get_executor(), Serve(std::move(socket)), asio::detached);
    }
  }
  asio::awaitable<void> Serve(tcp::socket socket) {
    std::string buffer;
    for (int answered = 0; answered < per_connection; ++answered) {
      auto [ec, n] = co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer),
                                                     "\r\n\r\n", net::kUseTuple);
      if (ec) co_return;
      std::string head = buffer.substr(0, n);
      buffer.erase(0, n);
      size_t length = 0;
      if (auto pos = head.find("Content-Length: "); pos != std::string::npos)
        length = std::stoul(head.substr(pos + 16));
      while (buffer.size() < length) {
        char more[256];
        auto [rec, got] = co_await socket.async_read_some(asio::buffer(more), net::kUseTuple);
        if (rec) co_return;
        buffer.append(more, got);
      }
      buffer.erase(0, length);
      std::string target = head.substr(head.find(' ') + 1);
      target = target.substr(0, target.find(' '));
      if (target == "/slow") {
        asio::steady_timer wait(socket.get_executor(), std::chrono::seconds(30));
        co_await wait.async_wait(net::kUseTuple);
        co_return;
      }
      std::string response = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(target.size()) +
                             "\r\n\r\n" + target;
      co_await asio::async_write(socket, asio::buffer(response), net::kUseTuple);
    }
  }
  uint16_t port() const { return acceptor.local_endpoint().port(); }

  tcp::acceptor acceptor;
  int per_connection;
  int accepted = 0;
};

absl::StatusOr<Response> Call(asio::io_context& io, PooledClient& client, std::string target,
                              Duration timeout = std::chrono::seconds(5)) {
  std::optional<absl::StatusOr<Response>> result;
  Request request;
  request.method = "POST";
  request.target = std::move(target);
  request.body = "payload";
  client.Fetch(std::move(request), timeout, [&](absl::StatusOr<Response> r) { result = r; });
  while (!result) io.run_one();
  return *result;
}

TEST(PooledClient, ReusesItsConnection) {
  asio::io_context io;
  ScriptedServer server(io, 1000);
  PooledClient client(io, HostPort{"127.0.0.1", server.port()});
  for (int i = 0; i < 20; ++i) {
    auto response = Call(io, client, "/n" + std::to_string(i));
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->body, "/n" + std::to_string(i));
  }
  EXPECT_EQ(server.accepted, 1);
}

TEST(PooledClient, ReplacesAConnectionTheServerClosedWhileIdle) {
  asio::io_context io;
  ScriptedServer server(io, 2);  // closes after every second answer
  PooledClient client(io, HostPort{"127.0.0.1", server.port()});
  for (int i = 0; i < 6; ++i) {
    auto response = Call(io, client, "/r" + std::to_string(i));
    ASSERT_TRUE(response.ok()) << i << ": " << response.status();
    EXPECT_EQ(response->body, "/r" + std::to_string(i));
  }
  EXPECT_EQ(server.accepted, 3);
}

TEST(PooledClient, GivesUpAtTheTimeoutAndWhenNobodyListens) {
  asio::io_context io;
  ScriptedServer server(io, 1000);
  PooledClient client(io, HostPort{"127.0.0.1", server.port()});
  auto slow = Call(io, client, "/slow", std::chrono::milliseconds(200));
  EXPECT_EQ(slow.status().code(), absl::StatusCode::kDeadlineExceeded) << slow.status();
  EXPECT_TRUE(Call(io, client, "/after").ok());  // a fresh connection; the slow one is gone
  uint16_t port = server.port();
  server.acceptor.close();
  PooledClient nobody(io, HostPort{"127.0.0.1", port});
  EXPECT_EQ(Call(io, nobody, "/x").status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace gantry::http
