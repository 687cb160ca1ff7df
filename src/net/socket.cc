#include "net/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace gantry::net {

absl::StatusOr<SocketAddress> ToSocketAddress(const HostPort& address) {
  SocketAddress out;
  std::string host = address.host == "localhost" ? "127.0.0.1" : address.host;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(address.port);
    out.length = sizeof(sockaddr_in);
    return out;
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(address.port);
    out.length = sizeof(sockaddr_in6);
    return out;
  }
  return absl::InvalidArgumentError(fmt::format(
      "\"{}\" is not an IP address (names other than localhost are not supported)", address.host));
}

absl::StatusOr<int> ListenSocket(const HostPort& address, bool reuse_port, int backlog) {
  auto target = ToSocketAddress(address);
  if (!target.ok()) return target.status();
  int fd = ::socket(target->storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(fmt::format("socket: {}", strerror(errno)));
  int one = 1;
  bool ok = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
            (!reuse_port || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) == 0) &&
            ::bind(fd, target->get(), target->length) == 0 && ::listen(fd, backlog) == 0;
  if (!ok) {
    int error = errno;
    ::close(fd);
    return absl::UnavailableError(
        fmt::format("cannot listen on {}: {}", address.ToString(), strerror(error)));
  }
  return fd;
}

int AcceptSocket(int listen_fd, std::string& peer_ip) {
  sockaddr_storage peer{};
  socklen_t length = sizeof peer;
  int fd =
      accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  char text[INET6_ADDRSTRLEN] = "";
  if (peer.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&peer)->sin_addr, text, sizeof text);
  } else if (peer.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&peer)->sin6_addr, text, sizeof text);
  }
  peer_ip = text;
  return fd;
}

int ConnectSocket(const SocketAddress& address) {
  int fd = ::socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, address.get(), address.length) != 0 && errno != EINPROGRESS) {
    int error = errno;
    ::close(fd);
    errno = error;
    return -1;
  }
  return fd;
}

ssize_t Recv(int fd, void* buffer, size_t size) {
  return ::syscall(SYS_recvfrom, fd, buffer, size, 0, nullptr, nullptr);
}

ssize_t Send(int fd, const void* data, size_t size) {
  return ::syscall(SYS_sendto, fd, data, size, MSG_NOSIGNAL, nullptr, 0);
}

ssize_t SendMsg(int fd, const msghdr* message) {
  return ::syscall(SYS_sendmsg, fd, message, MSG_NOSIGNAL);
}

int SocketError(int fd) {
  int error = 0;
  socklen_t length = sizeof error;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return errno;
  return error;
}

}  // namespace gantry::net
