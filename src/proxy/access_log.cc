#include "proxy/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "http/message.h"

namespace gantry::proxy {

namespace {
constexpr size_t kFlushBytes = size_t{64} * 1024;
constexpr int64_t kFlushMs = 100;
}  // namespace

std::string_view MethodName(http::h1::Method method) {
  using http::h1::Method;
  switch (method) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kDelete:
      return "DELETE";
    case Method::kOptions:
      return "OPTIONS";
    case Method::kTrace:
      return "TRACE";
    case Method::kPatch:
      return "PATCH";
    case Method::kConnect:
      return "CONNECT";
    case Method::kOther:
      break;
  }
  return "OTHER";
}

absl::StatusOr<std::unique_ptr<AccessLog>> AccessLog::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        fmt::format("cannot open the access log {}: {}", path, strerror(errno)));
  }
  return std::unique_ptr<AccessLog>(new AccessLog(fd));
}

AccessLog::~AccessLog() {
  Flush();
  ::close(fd_);
}

void AccessLog::Write(const AccessLogEntry& e) {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  fmt::format_to(std::back_inserter(buffer_),
                 R"({{"time":"{:%Y-%m-%dT%H:%M:%S}.{:03}Z","listener":"{}","client":"{}",)"
                 R"("method":"{}","target":"{}","service":"{}","instance":"{}","status":{},)"
                 R"("duration_ms":{:.3f},"attempts":{},"request_id":"{}"}})"
                 "\n",
                 fmt::gmtime(std::chrono::system_clock::to_time_t(now)), ms % 1000, e.listener,
                 e.client_ip, MethodName(e.method), http::JsonEscape(e.target),
                 http::JsonEscape(e.service), http::JsonEscape(e.instance), e.status,
                 static_cast<double>(e.duration_us) / 1000.0, e.attempts,
                 http::JsonEscape(e.request_id));
  if (buffer_.size() >= kFlushBytes) return Flush();
  if (loop_ && !timer_.armed()) loop_->timers().Arm(timer_, loop_->now_ms() + kFlushMs);
}

void AccessLog::Flush() {
  size_t written = 0;
  while (written < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + written, buffer_.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // a full disk loses log lines, never requests
    written += static_cast<size_t>(n);
  }
  buffer_.clear();
}

void AccessLog::OnTimer(net::Timer&) { Flush(); }

}  // namespace gantry::proxy
