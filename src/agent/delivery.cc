#include "agent/delivery.h"

#include <algorithm>
#include <deque>

#include <fmt/format.h>

#include "core/log.h"
#include "core/status.h"
#include "http/pooled_client.h"
#include "net/asio.h"

namespace gantry::agent {

namespace {
constexpr size_t kWindow = 32;
constexpr Duration kDeliveryTimeout = std::chrono::seconds(10);
constexpr Duration kFirstRetry = std::chrono::seconds(1);
constexpr Duration kMaxRetry = std::chrono::seconds(30);

}  // namespace

struct Delivery::Subscription {
  config::SubscribeSpec spec;
  std::string service;
  bool removed = false;
  std::unique_ptr<broker::Consumer> consumer;
  bool fetching = false;
  std::set<uint64_t> in_flight;
  // Ordered subscriptions: keys with a message in flight, and the messages read behind them
  // (sent one after another as each is acknowledged).
  std::set<std::string> busy_keys;
  std::map<std::string, std::deque<broker::Message>> waiting;
  size_t waiting_count = 0;
  uint64_t delivered = 0, redelivered = 0, dead_lettered = 0;
};

Delivery::Delivery(net::asio::io_context& io, broker::Broker& broker, store::Store& store,
                   HostPort mesh)
    : io_(io),
      broker_(broker),
      store_(store),
      mesh_(std::make_unique<http::PooledClient>(io, std::move(mesh))),
      alive_(std::make_shared<bool>(true)) {}

Delivery::~Delivery() { *alive_ = false; }

void Delivery::Configure(const config::AppSpec& spec) {
  std::set<std::string> wanted;
  for (const config::ServiceSpec& service : spec.services) {
    for (const config::SubscribeSpec& sub : service.subscribe) {
      std::string key = sub.topic + " " + service.name;
      wanted.insert(key);
      auto it = subscriptions_.find(key);
      if (it != subscriptions_.end()) {
        it->second->spec = sub;  // path, max_deliver... take effect with the next message
        continue;
      }
      auto fresh = std::make_shared<Subscription>();
      fresh->spec = sub;
      fresh->service = service.name;
      fresh->consumer = broker_.Consume(sub.topic, service.name, store_);
      subscriptions_[key] = fresh;
      Pump(fresh);
    }
  }
  for (auto it = subscriptions_.begin(); it != subscriptions_.end();) {
    if (wanted.contains(it->first)) {
      ++it;
    } else {
      it->second->removed = true;
      it = subscriptions_.erase(it);
    }
  }
}

void Delivery::Pump(const std::shared_ptr<Subscription>& sub) {
  size_t taken = sub->in_flight.size() + sub->waiting_count;
  if (sub->removed || sub->fetching || taken >= kWindow) return;
  sub->fetching = true;
  std::weak_ptr<bool> alive = alive_;
  sub->consumer->Fetch(
      kWindow - taken, [this, alive, sub](absl::StatusOr<std::vector<broker::Message>> messages) {
        if (alive.expired() || sub->removed) return;
        sub->fetching = false;
        if (!messages.ok()) {
          GANTRY_LOG(kError, "delivery: cannot fetch {} for {}: {}", sub->spec.topic, sub->service,
                     StatusMessage(messages.status()));
          auto timer = std::make_shared<net::asio::steady_timer>(io_, kFirstRetry);
          timer->async_wait([this, alive, sub, timer](boost::system::error_code e) {
            if (!e && !alive.expired()) Pump(sub);
          });
          return;
        }
        for (broker::Message& message : *messages) Take(sub, std::move(message));
        Pump(sub);
      });
}

void Delivery::Take(const std::shared_ptr<Subscription>& sub, broker::Message message) {
  if (sub->spec.ordered && !sub->busy_keys.insert(message.key).second) {
    sub->waiting[message.key].push_back(std::move(message));  // behind its key's one
    ++sub->waiting_count;
    return;
  }
  sub->in_flight.insert(message.offset);
  Deliver(sub, std::move(message), 1);
}

void Delivery::Deliver(std::shared_ptr<Subscription> sub, broker::Message message, int attempt) {
  http::Request request;
  request.method = "POST";
  request.target = sub->spec.path;
  request.headers = {{"Host", sub->service},
                     {"Content-Type", "application/octet-stream"},
                     {"X-Gantry-Topic", sub->spec.topic},
                     {"X-Gantry-Message-Id", message.id},
                     {"X-Gantry-Offset", std::to_string(message.offset)},
                     {"X-Gantry-Attempt", std::to_string(attempt)}};
  if (!message.key.empty()) request.headers.emplace_back("X-Gantry-Key", message.key);
  for (const auto& header : message.headers) request.headers.push_back(header);
  request.body = message.payload;
  std::weak_ptr<bool> alive = alive_;
  mesh_->Fetch(std::move(request), kDeliveryTimeout,
               [this, alive, sub, message = std::move(message),
                attempt](absl::StatusOr<http::Response> response) mutable {
                 if (alive.expired() || sub->removed) return;
                 if (response.ok() && response->status / 100 == 2) {
                   ++sub->delivered;
                   return Acked(sub, message);
                 }
                 if (attempt >= sub->spec.max_deliver) {
                   return DeadLetter(sub, std::move(message), FailureOf(response), attempt);
                 }
                 ++sub->redelivered;
                 Duration wait =
                     std::min(kFirstRetry * (int64_t{1} << std::min(attempt - 1, 10)), kMaxRetry);
                 auto timer = std::make_shared<net::asio::steady_timer>(io_, wait);
                 timer->async_wait([this, alive, sub, timer, message = std::move(message),
                                    attempt](boost::system::error_code error) mutable {
                   if (error || alive.expired() || sub->removed) return;
                   Deliver(sub, std::move(message), attempt + 1);
                 });
               });
}

// Why a delivery failed, for the dead letter: "HTTP 500: <the body's first 200 bytes>", or the
// transport's error.
std::string Delivery::FailureOf(const absl::StatusOr<http::Response>& response) {
  if (!response.ok()) return std::string(StatusMessage(response.status()));
  constexpr size_t kExcerpt = 200;
  std::string body = response->body.substr(0, kExcerpt);
  for (char& c : body) {
    if (c == '\r' || c == '\n') c = ' ';  // a header value of one line
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  std::string out = fmt::format("HTTP {}", response->status);
  if (!body.empty()) out += ": " + body + (response->body.size() > kExcerpt ? "..." : "");
  return out;
}

void Delivery::DeadLetter(std::shared_ptr<Subscription> sub, broker::Message message,
                          std::string failure, int attempts) {
  broker::Broker::Outgoing dead;
  // Per subscription: two services giving up on one message make two dead letters.
  dead.id = fmt::format("{}/{}", sub->service, message.id);
  dead.key = message.key;
  dead.headers = message.headers;
  dead.headers.emplace_back("x-gantry-original-topic", sub->spec.topic);
  dead.headers.emplace_back("x-gantry-original-offset", std::to_string(message.offset));
  dead.headers.emplace_back("x-gantry-service", sub->service);
  dead.headers.emplace_back("x-gantry-attempts", std::to_string(attempts));
  dead.headers.emplace_back("x-gantry-last-failure", failure);
  dead.payload = message.payload;
  std::weak_ptr<bool> alive = alive_;
  broker_.Publish(sub->spec.dead_letter, std::move(dead),
                  [this, alive, sub, message = std::move(message), failure,
                   attempts](absl::StatusOr<broker::Broker::Published> done) mutable {
                    if (alive.expired() || sub->removed) return;
                    if (done.ok()) {
                      ++sub->dead_lettered;
                      return Acked(sub, message);
                    }
                    // Stored nowhere yet: it stays in flight and is dead-lettered again later.
                    GANTRY_LOG(kError,
                               "delivery: cannot dead-letter offset {} of {}: {}; trying again",
                               message.offset, sub->spec.topic, StatusMessage(done.status()));
                    auto timer = std::make_shared<net::asio::steady_timer>(io_, kMaxRetry);
                    timer->async_wait([this, alive, sub, timer, message = std::move(message),
                                       failure = std::move(failure),
                                       attempts](boost::system::error_code error) mutable {
                      if (error || alive.expired() || sub->removed) return;
                      DeadLetter(sub, std::move(message), std::move(failure), attempts);
                    });
                  });
}

void Delivery::Acked(const std::shared_ptr<Subscription>& sub, const broker::Message& message) {
  sub->in_flight.erase(message.offset);
  sub->consumer->Ack(message);
  if (sub->busy_keys.contains(message.key)) {  // (also drains after `ordered` was turned off)
    auto behind = sub->waiting.find(message.key);
    if (behind == sub->waiting.end()) {
      sub->busy_keys.erase(message.key);
    } else {  // the key's next message goes now; the key stays busy
      broker::Message next = std::move(behind->second.front());
      behind->second.pop_front();
      if (behind->second.empty()) sub->waiting.erase(behind);
      --sub->waiting_count;
      sub->in_flight.insert(next.offset);
      Deliver(sub, std::move(next), 1);
    }
  }
  Pump(sub);
}

std::vector<broker::SubscriptionInfo> Delivery::List() const {
  std::vector<broker::SubscriptionInfo> out;
  for (const auto& [key, sub] : subscriptions_) {
    out.push_back({sub->spec.topic, sub->service, sub->consumer->committed(), sub->in_flight.size(),
                   sub->delivered, sub->redelivered, sub->dead_lettered});
  }
  return out;
}

}  // namespace gantry::agent
