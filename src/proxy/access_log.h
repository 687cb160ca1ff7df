// The access log: one JSON line per request, from every worker to one file. Each worker has
// its own AccessLog (its own descriptor, opened O_APPEND, and its own buffer); lines are
// written in whole-buffer writes when the buffer fills and at least every 100 ms, so the
// data plane never waits on the disk for a line. Worker thread only.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "http/h1_head.h"
#include "net/event_loop.h"
#include "net/timer_wheel.h"

namespace gantry::proxy {

struct AccessLogEntry {
  std::string_view listener;  // gateway | mesh
  std::string_view client_ip;
  http::h1::Method method = http::h1::Method::kOther;
  std::string_view target;
  std::string_view service;
  std::string_view instance;
  int status = 0;  // 0: the client was cut off
  uint64_t duration_us = 0;
  int attempts = 0;
  std::string_view request_id;
};

class AccessLog final : public net::TimerHandler {
 public:
  // Opens (creating) `path` for appending.
  static absl::StatusOr<std::unique_ptr<AccessLog>> Open(const std::string& path);
  ~AccessLog();

  // Before the first Write: the loop whose timer flushes.
  void Attach(net::EventLoop& loop) { loop_ = &loop; }
  void Write(const AccessLogEntry& entry);
  void Flush();
  void OnTimer(net::Timer& timer) override;

 private:
  explicit AccessLog(int fd) : fd_(fd), timer_(this) {}

  int fd_;
  std::string buffer_;
  net::EventLoop* loop_ = nullptr;
  net::Timer timer_;
};

std::string_view MethodName(http::h1::Method method);

}  // namespace gantry::proxy
