#include "agent/otlp_exporter.h"

#include <fmt/format.h>

#include "core/log.h"
#include "core/status.h"
#include "telemetry/otlp.h"
#include "version.h"

namespace gantry::agent {

namespace {
constexpr Duration kExportTimeout = std::chrono::seconds(10);
}  // namespace

absl::StatusOr<std::unique_ptr<OtlpExporter>> OtlpExporter::Create(boost::asio::io_context& io,
                                                                   std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.starts_with("https://")) {
    return absl::InvalidArgumentError(
        "--otlp-endpoint: https is not supported yet (use a collector's plain http port)");
  }
  if (!url.starts_with(kScheme)) {
    return absl::InvalidArgumentError(
        fmt::format("--otlp-endpoint must be http://host:port[/path], got \"{}\"", url));
  }
  std::string_view rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string path =
      slash == std::string_view::npos ? "/v1/traces" : std::string(rest.substr(slash));
  auto server = ParseHostPort(authority);
  if (!server.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("--otlp-endpoint: {}", StatusMessage(server.status())));
  }
  return std::unique_ptr<OtlpExporter>(new OtlpExporter(io, *server, std::move(path)));
}

OtlpExporter::OtlpExporter(boost::asio::io_context& io, HostPort server, std::string path)
    : client_(io, std::move(server), 2), path_(std::move(path)) {}

void OtlpExporter::Export(std::vector<telemetry::SpanRecord> spans) {
  size_t room = kMaxWaiting - std::min(kMaxWaiting, waiting_.size());
  if (spans.size() > room) {
    dropped_ += spans.size() - room;
    spans.resize(room);
  }
  waiting_.insert(waiting_.end(), spans.begin(), spans.end());
  SendNext();
}

void OtlpExporter::SendNext() {
  if (sending_ || waiting_.empty()) return;
  sending_ = true;
  std::vector<telemetry::SpanRecord> batch;
  batch.swap(waiting_);
  http::Request request;
  request.method = "POST";
  request.target = path_;
  request.headers = {{"Content-Type", "application/json"}};
  request.body = telemetry::OtlpTracesJson(batch, kVersion);
  std::weak_ptr<bool> alive = alive_;
  client_.Fetch(std::move(request), kExportTimeout,
                [this, alive, count = batch.size()](absl::StatusOr<http::Response> response) {
                  if (alive.expired()) return;
                  sending_ = false;
                  if (response.ok() && response->status / 100 == 2) {
                    exported_ += count;
                  } else {
                    failed_ += count;
                    GANTRY_LOG(kWarn, "otlp export of {} spans failed: {}", count,
                               response.ok() ? fmt::format("HTTP {}", response->status)
                                             : std::string(StatusMessage(response.status())));
                  }
                  SendNext();
                });
}

}  // namespace gantry::agent
