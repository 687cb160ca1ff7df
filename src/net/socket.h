// Raw non-blocking TCP sockets for the data plane's event loops (no Asio on that path).
// Plain functions; a descriptor belongs to whoever holds it.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "core/address.h"

namespace gantry::net {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// An IP literal or "localhost" with a port.
absl::StatusOr<SocketAddress> ToSocketAddress(const HostPort& address);

// A non-blocking listening socket (SO_REUSEADDR, and SO_REUSEPORT when asked).
absl::StatusOr<int> ListenSocket(const HostPort& address, bool reuse_port, int backlog);

// accept4 (non-blocking, close-on-exec) with TCP_NODELAY set; -1 with errno on failure. The
// peer's IP goes to `peer_ip` as text.
int AcceptSocket(int listen_fd, std::string& peer_ip);

// Starts a non-blocking connect. Returns the descriptor (the connect is in progress or done),
// or -1 with errno.
int ConnectSocket(const SocketAddress& address);

// The pending error of a socket (SO_ERROR), 0 if none: how a non-blocking connect ended.
int SocketError(int fd);

// recv/send/sendmsg as bare system calls: glibc's wrappers are thread-cancellation points and
// pay for it on every call; gantry never cancels threads. -1 with errno on failure; sends
// never raise SIGPIPE.
ssize_t Recv(int fd, void* buffer, size_t size);
ssize_t Send(int fd, const void* data, size_t size);
ssize_t SendMsg(int fd, const msghdr* message);

}  // namespace gantry::net
