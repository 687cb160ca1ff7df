// Listening sockets. Control plane and data plane both open theirs through here.
#pragma once

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "core/address.h"
#include "net/asio.h"

namespace gantry::net {

// An IP literal, or "localhost" (127.0.0.1).
absl::StatusOr<asio::ip::address> ResolveHost(const std::string& host);
absl::StatusOr<tcp::endpoint> ToEndpoint(const HostPort& address);

// Checks that `requested` is free (nobody listens there, SO_REUSEPORT or not) and, for port 0,
// picks the port. The data plane then binds one SO_REUSEPORT socket per worker to the result.
absl::StatusOr<HostPort> ReserveListenAddress(const HostPort& requested);

struct ListenOptions {
  int backlog = 1024;
};
absl::StatusOr<std::unique_ptr<tcp::acceptor>> Listen(asio::io_context& io, const HostPort& address,
                                                      ListenOptions options);

// Accepts connections until the acceptor is closed, handing each to `serve`. After a failed
// accept (EMFILE, ENFILE, ENOBUFS...) it logs and waits 100 ms rather than spin on an error that
// persists. `serve` must keep `acceptor` alive (e.g. by owning what owns it).
Awaitable<void> AcceptLoop(tcp::acceptor& acceptor, std::function<void(tcp::socket)> serve);

// A port on 127.0.0.1 that was free a moment ago, for a replica's PORT: a random one below the
// kernel's ephemeral range (10000 and up), so that no outbound connection takes it meanwhile.
absl::StatusOr<uint16_t> PickFreePort();

}  // namespace gantry::net
