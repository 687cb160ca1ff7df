// Upstream side of the data plane: per-worker pools of keep-alive connections to replicas and
// one request/response exchange over them. Data-plane thread only; internal to proxy/.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/duration.h"
#include "http/beast.h"
#include "proxy/snapshot.h"

namespace gantry::proxy {

struct UpstreamConnection {
  explicit UpstreamConnection(const net::asio::any_io_executor& executor) : stream(executor) {}
  http::beast::tcp_stream stream;
  http::beast::flat_buffer buffer;
};

class UpstreamPool {
 public:
  std::unique_ptr<UpstreamConnection> TakeIdle(const std::string& key);
  void GiveBack(const std::string& key, std::unique_ptr<UpstreamConnection> connection);
  // Closes idle connections to endpoints the snapshot no longer has (a restarted replica
  // listens on a new port; its old connections would otherwise linger in CLOSE_WAIT).
  void RetainOnly(const Snapshot& snapshot);
  void Clear() { idle_.clear(); }

 private:
  static constexpr size_t kMaxIdlePerEndpoint = 256;
  std::unordered_map<std::string, std::vector<std::unique_ptr<UpstreamConnection>>> idle_;
};

enum class UpstreamFailure { kNone, kConnect, kReset, kTimeout, kBadResponse };

struct UpstreamResult {
  UpstreamFailure failure = UpstreamFailure::kNone;
  std::string detail;
  http::BeastResponse response;
};

struct UpstreamTimeouts {
  Duration connect{std::chrono::seconds(2)};
  Duration request{std::chrono::seconds(15)};  // from sending to the whole response read
};

// Sends `request` to `endpoint` and reads the final response (interim 1xx are skipped). A pooled
// connection the replica turns out to have closed is replaced by a fresh one once, for
// idempotent methods only (pooled connections are also checked before use).
// `request` must outlive the returned awaitable (callers co_await it at once).
net::Awaitable<UpstreamResult> Exchange(UpstreamPool& pool, const Endpoint& endpoint,
                                        http::BeastRequest& request, UpstreamTimeouts timeouts);

}  // namespace gantry::proxy
