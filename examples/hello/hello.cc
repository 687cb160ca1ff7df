// examples/hello: a small HTTP service. GET / answers "hello from <GANTRY_INSTANCE>",
// GET /healthz answers 200; SIGTERM ends it cleanly. Listens on 127.0.0.1:$PORT.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <boost/asio/signal_set.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "net/asio.h"

namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using gantry::net::kUseTuple;
using tcp = asio::ip::tcp;

http::response<http::string_body> Answer(const http::request<http::string_body>& request,
                                         const std::string& instance) {
  http::response<http::string_body> response{http::status::ok, request.version()};
  response.set(http::field::content_type, "text/plain");
  std::string_view path = request.target();
  path = path.substr(0, path.find('?'));
  if (path == "/healthz") {
    response.body() = "ok\n";
  } else if (path == "/") {
    response.body() = "hello from " + instance + "\n";
  } else {
    response.result(http::status::not_found);
    response.body() = "not found\n";
  }
  response.keep_alive(request.keep_alive());
  response.prepare_payload();
  if (request.method() == http::verb::head) response.body().clear();  // length stays, body goes
  return response;
}

asio::awaitable<void> Serve(tcp::socket socket, std::string instance) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> request;
    auto [read_ec, read] = co_await http::async_read(stream, buffer, request, kUseTuple);
    if (read_ec) break;
    auto response = Answer(request, instance);
    auto [write_ec, written] = co_await http::async_write(stream, response, kUseTuple);
    if (write_ec || !response.keep_alive()) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> Accept(tcp::acceptor& acceptor, std::string instance) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kUseTuple);
    if (!acceptor.is_open()) co_return;
    if (!ec)
      asio::co_spawn(acceptor.get_executor(), Serve(std::move(socket), instance), asio::detached);
  }
}

}  // namespace

int main() {
  const char* port = std::getenv("PORT");
  const char* instance = std::getenv("GANTRY_INSTANCE");
  if (!port) {
    std::fprintf(stderr, "hello: PORT is not set\n");
    return 2;
  }
  asio::io_context io(1);
  tcp::acceptor acceptor(
      io, {asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(std::atoi(port))});
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const beast::error_code&, int) {
    std::printf("hello: stopping\n");
    io.stop();
  });
  asio::co_spawn(io, Accept(acceptor, instance ? instance : "hello"), asio::detached);
  std::printf("hello: listening on 127.0.0.1:%s\n", port);
  std::fflush(stdout);
  io.run();
  return 0;
}
