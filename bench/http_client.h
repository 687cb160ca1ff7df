// The load generators' HTTP/1.1 client pieces: one request per keep-alive connection at a time,
// on Asio coroutines, so one thread drives many connections. Also the percentile every
// generator reports.
#pragma once

#include <exception>
#include <string>
#include <vector>

#include "core/address.h"
#include "net/asio.h"

namespace gantry::bench {

// A request with Host and Content-Length; `extra` is more header lines, each ending in \r\n.
std::string Http(const std::string& method, const std::string& target, const std::string& body,
                 const std::string& extra = "");

// Ensures `buffer` holds at least `n` bytes.
net::asio::awaitable<void> Fill(net::tcp::socket& socket, std::string& buffer, size_t n);

// Reads one response (Content-Length or chunked body, as Go's server sends large ones);
// returns its status.
net::asio::awaitable<int> ReadResponse(net::tcp::socket& socket, std::string& buffer,
                                       std::string* body);

// Connects with TCP_NODELAY.
net::asio::awaitable<net::tcp::socket> Connect(const HostPort& addr);

// The first exception of the coroutines spawned with catcher() as their completion.
struct FirstFailure {
  std::exception_ptr error;
  auto catcher() {
    return [this](const std::exception_ptr& e) {
      if (e && !error) error = e;
    };
  }
  explicit operator bool() const { return error != nullptr; }
  // Prints "<program>: <what>" to stderr; returns the exit status for it (1).
  int Report(const char* program) const;
};

// The p-quantile (0..1) of `sorted`; 0 when empty.
double Percentile(const std::vector<double>& sorted, double p);

}  // namespace gantry::bench
