#include "net/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>

#include <fmt/format.h>

namespace gantry::net {

namespace {

// Mozilla's "intermediate" TLS 1.2 list (TLS 1.3 suites are OpenSSL's defaults, all AEAD).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// ALPN, in our order of preference (wire format: length-prefixed names).
constexpr unsigned char kAlpn[] = "\x02h2\x08http/1.1";

std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

int SelectAlpn(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
               unsigned int in_len, void*) {
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, out_len, kAlpn, sizeof kAlpn - 1, in, in_len) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;  // no common protocol: go on without ALPN (HTTP/1.1)
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

struct CtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};

}  // namespace

struct TlsServerContext::Impl {
  std::vector<std::unique_ptr<SSL_CTX, CtxDeleter>> contexts;  // [0]: the default

  // SNI: the first certificate whose names match the one asked for.
  static int SelectCertificate(SSL* ssl, int*, void* arg) {
    auto* self = static_cast<Impl*>(arg);
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (!name) return SSL_TLSEXT_ERR_OK;
    for (auto& ctx : self->contexts) {
      X509* cert = SSL_CTX_get0_certificate(ctx.get());
      if (cert && X509_check_host(cert, name, 0, 0, nullptr) == 1) {
        if (ctx.get() != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, ctx.get());
        return SSL_TLSEXT_ERR_OK;
      }
    }
    return SSL_TLSEXT_ERR_OK;  // unknown name: the default certificate
  }
};

TlsServerContext::TlsServerContext(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsServerContext::~TlsServerContext() = default;

absl::StatusOr<std::shared_ptr<TlsServerContext>> TlsServerContext::Create(
    const std::vector<Certificate>& certificates) {
  if (certificates.empty()) return absl::InvalidArgumentError("TLS needs a certificate");
  auto impl = std::make_unique<Impl>();
  for (const Certificate& certificate : certificates) {
    std::unique_ptr<SSL_CTX, CtxDeleter> ctx(SSL_CTX_new(TLS_server_method()));
    if (!ctx) return absl::InternalError("TLS: " + OpenSslError());
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                       SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE |
                                    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_cipher_list(ctx.get(), kTls12Ciphers);
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), certificate.chain.c_str()) != 1) {
      return absl::InvalidArgumentError(fmt::format("TLS: cannot load the certificate {}: {}",
                                                    certificate.chain.string(), OpenSslError()));
    }
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), certificate.key.c_str(), SSL_FILETYPE_PEM) != 1) {
      return absl::InvalidArgumentError(fmt::format("TLS: cannot load the private key {}: {}",
                                                    certificate.key.string(), OpenSslError()));
    }
    if (SSL_CTX_check_private_key(ctx.get()) != 1) {
      return absl::InvalidArgumentError(
          fmt::format("TLS: the key {} does not belong to the certificate {}",
                      certificate.key.string(), certificate.chain.string()));
    }
    SSL_CTX_set_alpn_select_cb(ctx.get(), &SelectAlpn, nullptr);
    impl->contexts.push_back(std::move(ctx));
  }
  SSL_CTX_set_tlsext_servername_callback(impl->contexts[0].get(), &Impl::SelectCertificate);
  SSL_CTX_set_tlsext_servername_arg(impl->contexts[0].get(), impl.get());
  return std::shared_ptr<TlsServerContext>(new TlsServerContext(std::move(impl)));
}

struct TlsConnection::Impl {
  SSL* ssl = nullptr;
  ~Impl() { SSL_free(ssl); }

  // errno for a failed call: EAGAIN when OpenSSL waits for the socket.
  ssize_t Failed(int result) {
    int error = SSL_get_error(ssl, result);
    switch (error) {
      case SSL_ERROR_WANT_READ:
      case SSL_ERROR_WANT_WRITE:
        errno = EAGAIN;
        return -1;
      case SSL_ERROR_ZERO_RETURN:
        return 0;  // close_notify
      case SSL_ERROR_SYSCALL:
        if (errno == 0) errno = ECONNRESET;  // EOF without close_notify
        ERR_clear_error();
        return -1;
      default:
        ERR_clear_error();
        errno = EPROTO;
        return -1;
    }
  }
};

std::unique_ptr<TlsConnection> TlsServerContext::Accept(int fd) const {
  auto impl = std::make_unique<TlsConnection::Impl>();
  impl->ssl = SSL_new(impl_->contexts[0].get());
  if (!impl->ssl || SSL_set_fd(impl->ssl, fd) != 1) return nullptr;
  SSL_set_accept_state(impl->ssl);
  return std::make_unique<TlsConnection>(std::move(impl));
}

TlsConnection::TlsConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsConnection::~TlsConnection() = default;

TlsConnection::Step TlsConnection::Handshake() {
  int result = SSL_do_handshake(impl_->ssl);
  if (result == 1) return Step::kDone;
  int error = SSL_get_error(impl_->ssl, result);
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return Step::kWantIo;
  ERR_clear_error();
  return Step::kFailed;
}

std::string_view TlsConnection::alpn() const {
  const unsigned char* data = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(impl_->ssl, &data, &length);
  return data ? std::string_view(reinterpret_cast<const char*>(data), length) : "";
}

ssize_t TlsConnection::Read(void* buffer, size_t size) {
  errno = 0;
  int result = SSL_read(impl_->ssl, buffer, static_cast<int>(std::min<size_t>(size, INT32_MAX)));
  return result > 0 ? result : impl_->Failed(result);
}

ssize_t TlsConnection::Write(const void* data, size_t size) {
  errno = 0;
  int result = SSL_write(impl_->ssl, data, static_cast<int>(std::min<size_t>(size, INT32_MAX)));
  return result > 0 ? result : impl_->Failed(result);
}

void TlsConnection::Shutdown() {
  SSL_shutdown(impl_->ssl);
  ERR_clear_error();
}

}  // namespace gantry::net
