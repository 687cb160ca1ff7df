// Blocking queries, as Consul's: `?index=N&wait=30s` parks a read until the data's index passes
// N or the wait runs out, then answers with the data as it is then.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string_view>

#include "core/duration.h"
#include "http/message.h"

namespace boost::asio {
class io_context;
}

namespace gantry::api {

inline constexpr Duration kDefaultBlockingWait = std::chrono::minutes(5);  // Consul's defaults
inline constexpr Duration kMaxBlockingWait = std::chrono::minutes(10);

struct BlockingQuery {
  uint64_t index = 0;
  Duration wait = kDefaultBlockingWait;
};

// `query` nullopt when the request has no ?index; `error` a 400 for a bad index or wait.
struct BlockingParse {
  std::optional<BlockingQuery> query;
  std::optional<http::Response> error;
};
BlockingParse ParseBlocking(std::string_view query);

// Requests parked until their condition holds or their wait runs out.
class ParkedRequests {
 public:
  explicit ParkedRequests(boost::asio::io_context& io);
  ~ParkedRequests();

  // Calls `answer` exactly once: now if `ready()` already holds, else at the first Wake() at
  // which it holds, else when `wait` runs out. With the request's `abandonment`, a client that
  // leaves first drops the request instead: `dropped` runs, `answer` never does.
  void Park(Duration wait, std::function<bool()> ready, std::function<void()> answer,
            std::shared_ptr<http::Abandonment> abandonment = nullptr,
            std::function<void()> dropped = {});
  // Checks every parked request's condition.
  void Wake();
  size_t size() const { return parked_.size(); }

 private:
  struct Entry;
  std::unique_ptr<Entry> Take(uint64_t id);  // out of the table, its timer cancelled
  void Finish(uint64_t id);
  void Drop(uint64_t id);

  boost::asio::io_context& io_;
  std::map<uint64_t, std::unique_ptr<Entry>> parked_;
  uint64_t next_id_ = 1;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gantry::api
