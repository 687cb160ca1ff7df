#include "http_client.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>

#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>

namespace gantry::bench {

namespace asio = net::asio;
using net::tcp;

std::string Http(const std::string& method, const std::string& target, const std::string& body,
                 const std::string& extra) {
  std::string out = method + " " + target + " HTTP/1.1\r\nHost: bench\r\n" + extra;
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  return out + body;
}

asio::awaitable<void> Fill(tcp::socket& socket, std::string& buffer, size_t n) {
  if (buffer.size() < n) {
    co_await asio::async_read(socket, asio::dynamic_buffer(buffer),
                              asio::transfer_exactly(n - buffer.size()), asio::use_awaitable);
  }
}

asio::awaitable<int> ReadResponse(tcp::socket& socket, std::string& buffer, std::string* body) {
  size_t header_end = co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer),
                                                      "\r\n\r\n", asio::use_awaitable);
  int status = std::atoi(buffer.c_str() + 9);
  std::string head = buffer.substr(0, header_end);
  for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  buffer.erase(0, header_end);
  std::string content;
  if (head.find("transfer-encoding: chunked") != std::string::npos) {
    for (;;) {
      size_t line_end = co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer),
                                                        "\r\n", asio::use_awaitable);
      size_t size = std::strtoul(buffer.c_str(), nullptr, 16);
      buffer.erase(0, line_end);
      co_await Fill(socket, buffer, size + 2);
      content.append(buffer, 0, size);
      buffer.erase(0, size + 2);
      if (size == 0) break;
    }
  } else {
    size_t length = 0;
    if (auto pos = head.find("content-length:"); pos != std::string::npos)
      length = std::strtoul(head.c_str() + pos + 15, nullptr, 10);
    co_await Fill(socket, buffer, length);
    content = buffer.substr(0, length);
    buffer.erase(0, length);
  }
  if (body) *body = std::move(content);
  co_return status;
}

asio::awaitable<tcp::socket> Connect(const HostPort& addr) {
  tcp::socket socket(co_await asio::this_coro::executor);
  co_await socket.async_connect({asio::ip::make_address(addr.host), addr.port},
                                asio::use_awaitable);
  socket.set_option(tcp::no_delay(true));
  co_return socket;
}

int FirstFailure::Report(const char* program) const {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
  }
  return 1;
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  return sorted[static_cast<size_t>(p * static_cast<double>(sorted.size() - 1))];
}

}  // namespace gantry::bench
