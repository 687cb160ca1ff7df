#include "net/listen.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <random>

#include <fmt/format.h>

#include <boost/asio/socket_base.hpp>
#include "core/log.h"

namespace gantry::net {

absl::StatusOr<asio::ip::address> ResolveHost(const std::string& host) {
  if (host == "localhost") return asio::ip::address_v4::loopback();
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) {
    return absl::InvalidArgumentError(fmt::format(
        "\"{}\" is not an IP address (names other than localhost are not supported)", host));
  }
  return address;
}

absl::StatusOr<tcp::endpoint> ToEndpoint(const HostPort& address) {
  auto ip = ResolveHost(address.host);
  if (!ip.ok()) return ip.status();
  return tcp::endpoint(*ip, address.port);
}

namespace {
absl::Status BindError(const HostPort& address, const boost::system::error_code& ec) {
  return absl::UnavailableError(
      fmt::format("cannot listen on {}: {}", address.ToString(), ec.message()));
}
}  // namespace

absl::StatusOr<HostPort> ReserveListenAddress(const HostPort& requested) {
  auto endpoint = ToEndpoint(requested);
  if (!endpoint.ok()) return endpoint.status();
  asio::io_context io;
  tcp::acceptor probe(io);
  boost::system::error_code ec;
  probe.open(endpoint->protocol(), ec);
  if (!ec) probe.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) probe.bind(*endpoint, ec);
  if (ec) return BindError(requested, ec);
  HostPort resolved = requested;
  resolved.port = probe.local_endpoint().port();
  return resolved;
}

absl::StatusOr<std::unique_ptr<tcp::acceptor>> Listen(asio::io_context& io, const HostPort& address,
                                                      ListenOptions options) {
  auto endpoint = ToEndpoint(address);
  if (!endpoint.ok()) return endpoint.status();
  auto acceptor = std::make_unique<tcp::acceptor>(io);
  boost::system::error_code ec;
  acceptor->open(endpoint->protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(*endpoint, ec);
  if (!ec) acceptor->listen(options.backlog, ec);
  if (ec) return BindError(address, ec);
  return acceptor;
}

Awaitable<void> AcceptLoop(tcp::acceptor& acceptor, std::function<void(tcp::socket)> serve) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kUseTuple);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {  // serve the connections we have, try again shortly
      GANTRY_LOG(kWarn, "accept failed: {}; retrying in 100ms", ec.message());
      asio::steady_timer timer(acceptor.get_executor());
      timer.expires_after(std::chrono::milliseconds(100));
      co_await timer.async_wait(kUseTuple);
      continue;
    }
    serve(std::move(socket));
  }
}

absl::StatusOr<uint16_t> PickFreePort() {
  // Below the kernel's ephemeral range: outbound connections (any client on the machine takes
  // an ephemeral port for each) cannot take the port between this check and the replica's bind.
  int low = 32768;
  if (FILE* range = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    int high = 0;
    if (std::fscanf(range, "%d %d", &low, &high) != 2) low = 32768;
    std::fclose(range);
  }
  constexpr int kFirst = 10000;
  if (low - kFirst >= 1000) {
    static thread_local std::mt19937 random(static_cast<unsigned>(::getpid()) ^
                                            static_cast<unsigned>(std::time(nullptr)));
    std::uniform_int_distribution<int> pick(kFirst, low - 1);
    for (int attempt = 0; attempt < 200; ++attempt) {
      auto port = static_cast<uint16_t>(pick(random));
      if (ReserveListenAddress({"127.0.0.1", port}).ok()) return port;
    }
  }
  auto reserved = ReserveListenAddress({"127.0.0.1", 0});
  if (!reserved.ok()) return reserved.status();
  return reserved->port;
}

}  // namespace gantry::net
