#include "api/blocking.h"

#include <fmt/format.h>

#include "api/json_http.h"
#include "core/status.h"
#include "net/asio.h"

namespace gantry::api {

struct ParkedRequests::Entry {
  explicit Entry(net::asio::io_context& io) : timer(io) {}
  net::asio::steady_timer timer;
  std::function<bool()> ready;
  std::function<void()> answer;
  std::function<void()> dropped;
};

BlockingParse ParseBlocking(std::string_view query) {
  BlockingParse out;
  IntParam index = ParseIntParam(query, "index");
  if (index.error) {
    out.error = std::move(index.error);
    return out;
  }
  auto wait_text = QueryParam(query, "wait");
  if (!index.value) {
    if (wait_text) out.error = http::JsonError(400, "invalid_argument", "?wait needs ?index");
    return out;
  }
  BlockingQuery blocking;
  blocking.index = static_cast<uint64_t>(*index.value);
  if (wait_text) {
    auto wait = ParseDuration(*wait_text);
    if (!wait.ok()) {
      out.error =
          http::JsonError(400, "invalid_argument",
                          fmt::format("?wait={}: {}", *wait_text, StatusMessage(wait.status())));
      return out;
    }
    blocking.wait = std::min(*wait, kMaxBlockingWait);
  }
  out.query = blocking;
  return out;
}

ParkedRequests::ParkedRequests(net::asio::io_context& io) : io_(io) {}

ParkedRequests::~ParkedRequests() { *alive_ = false; }

void ParkedRequests::Park(Duration wait, std::function<bool()> ready, std::function<void()> answer,
                          std::shared_ptr<http::Abandonment> abandonment,
                          std::function<void()> dropped) {
  if (ready()) return answer();
  uint64_t id = next_id_++;
  auto entry = std::make_unique<Entry>(io_);
  entry->ready = std::move(ready);
  entry->answer = std::move(answer);
  entry->dropped = std::move(dropped);
  if (abandonment) {
    abandonment->OnAbandoned([this, id, alive = std::weak_ptr<bool>(alive_)] {
      if (auto live = alive.lock(); live && *live) Drop(id);
    });
  }
  entry->timer.expires_after(wait);
  entry->timer.async_wait(
      [this, id, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
        auto live = alive.lock();
        if (ec || !live || !*live) return;
        Finish(id);
      });
  parked_.emplace(id, std::move(entry));
}

void ParkedRequests::Wake() {
  std::vector<uint64_t> ready;
  for (const auto& [id, entry] : parked_) {
    if (entry->ready()) ready.push_back(id);
  }
  for (uint64_t id : ready) Finish(id);
}

std::unique_ptr<ParkedRequests::Entry> ParkedRequests::Take(uint64_t id) {
  auto it = parked_.find(id);
  if (it == parked_.end()) return nullptr;
  std::unique_ptr<Entry> entry = std::move(it->second);
  parked_.erase(it);
  entry->timer.cancel();
  return entry;
}

void ParkedRequests::Finish(uint64_t id) {
  if (auto entry = Take(id)) entry->answer();
}

void ParkedRequests::Drop(uint64_t id) {
  if (auto entry = Take(id); entry && entry->dropped) entry->dropped();
}

}  // namespace gantry::api
