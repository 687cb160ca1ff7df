// Push delivery of topics to the services that subscribe to them (`subscribe:`): each
// subscription is a consumer group that gets every message once, as a POST of its path through
// the mesh (so to one healthy replica, balanced and under the service's policy); a 2xx
// acknowledges. Failed deliveries are tried again after 1 s, 2 s, 4 s... (at most 30 s); after
// `max_deliver` tries the message goes to the dead-letter topic. Up to 32 messages are in flight
// per subscription; with `ordered: true`, at most one per key (messages without a key share
// one), each key's in offset order, the next sent once the one before is acknowledged or
// dead-lettered, while other keys go on. Messages come from the broker's Consumer for the
// group (the service), which keeps the committed offset (everything before it acknowledged), so
// a restart redelivers from there: at least once. A new subscription starts at the oldest
// retained message.
// Control-plane thread only.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "broker/broker.h"
#include "config/app_spec.h"
#include "core/address.h"
#include "http/pooled_client.h"
#include "store/store.h"

namespace boost::asio {
class io_context;
}

namespace gantry::agent {

class Delivery {
 public:
  Delivery(boost::asio::io_context& io, broker::Broker& broker, store::Store& store, HostPort mesh);
  ~Delivery();

  // Takes the subscriptions of `spec`: new ones start, removed ones stop (their offsets stay).
  void Configure(const config::AppSpec& spec);
  std::vector<broker::SubscriptionInfo> List() const;

 private:
  struct Subscription;
  // Fetches more while fewer than the window are taken (in flight, or waiting behind a key).
  void Pump(const std::shared_ptr<Subscription>& sub);
  void Take(const std::shared_ptr<Subscription>& sub, broker::Message message);
  void Deliver(std::shared_ptr<Subscription> sub, broker::Message message, int attempt);
  void Acked(const std::shared_ptr<Subscription>& sub, const broker::Message& message);
  // `failure`: the last delivery's (FailureOf), kept with the dead letter.
  void DeadLetter(std::shared_ptr<Subscription> sub, broker::Message message, std::string failure,
                  int attempts);
  static std::string FailureOf(const absl::StatusOr<http::Response>& response);

  boost::asio::io_context& io_;
  broker::Broker& broker_;
  store::Store& store_;
  std::unique_ptr<http::PooledClient> mesh_;  // kept-alive connections to the mesh
  std::shared_ptr<bool> alive_;
  std::map<std::string, std::shared_ptr<Subscription>> subscriptions_;  // "<topic> <service>"
};

}  // namespace gantry::agent
