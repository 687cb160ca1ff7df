// Server-side TLS for the data plane's own sockets, over OpenSSL (only tls.cc sees its
// headers): TLS 1.2 and 1.3 only, forward-secret AEAD ciphers, ALPN choosing h2 or http/1.1, and
// SNI choosing among several certificates by the names they carry. Non-blocking: every call
// returns at once, saying when the socket must become readable or writable first.
// A context is immutable once made and shared by every worker; a connection is one thread's.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace gantry::net {

class TlsConnection;

class TlsServerContext {
 public:
  struct Certificate {
    std::filesystem::path chain;  // PEM: the certificate, then its intermediates
    std::filesystem::path key;    // PEM private key
  };
  // The first certificate answers clients whose SNI matches none (or who send none).
  static absl::StatusOr<std::shared_ptr<TlsServerContext>> Create(
      const std::vector<Certificate>& certificates);
  ~TlsServerContext();

  // A TLS server session over the accepted, non-blocking socket `fd` (not owned).
  std::unique_ptr<TlsConnection> Accept(int fd) const;

  struct Impl;

 private:
  explicit TlsServerContext(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class TlsConnection {
 public:
  ~TlsConnection();
  enum class Step { kDone, kWantIo, kFailed };
  // Drives the handshake on; kWantIo: call again on the socket's next readiness.
  Step Handshake();
  std::string_view alpn() const;  // the protocol agreed ("h2", "http/1.1"), or ""
  // Like recv/send: >0 bytes, 0 when the peer closed (read), -1 with errno (EAGAIN: not now).
  ssize_t Read(void* buffer, size_t size);
  ssize_t Write(const void* data, size_t size);
  void Shutdown();  // sends close_notify, best effort

  struct Impl;
  explicit TlsConnection(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace gantry::net
