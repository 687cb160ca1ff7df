// Sends the spans of kept traces to an OpenTelemetry collector over OTLP/HTTP with JSON
// (`gantry up --otlp-endpoint http://host:port[/path]`, path /v1/traces by default): a batch
// per collection tick, one request in flight at a time; spans that come meanwhile wait, up to
// 20,000 (past that they are dropped and counted). A failed export is logged and dropped:
// traces are kept locally either way. Control-plane thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "http/pooled_client.h"
#include "telemetry/trace.h"

namespace boost::asio {
class io_context;
}

namespace gantry::agent {

class OtlpExporter {
 public:
  static absl::StatusOr<std::unique_ptr<OtlpExporter>> Create(boost::asio::io_context& io,
                                                              std::string_view url);

  void Export(std::vector<telemetry::SpanRecord> spans);

  uint64_t exported() const { return exported_; }  // spans the collector took
  uint64_t failed() const { return failed_; }      // spans of failed requests
  uint64_t dropped() const { return dropped_; }    // spans that found the queue full

  static constexpr size_t kMaxWaiting = 20'000;

 private:
  OtlpExporter(boost::asio::io_context& io, HostPort server, std::string path);
  void SendNext();

  http::PooledClient client_;
  std::string path_;
  std::vector<telemetry::SpanRecord> waiting_;
  bool sending_ = false;
  uint64_t exported_ = 0, failed_ = 0, dropped_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gantry::agent
