// /api/v1/topics: publishing to the broker and reading topics back.
//   POST /api/v1/topics/{topic}  body: the message; X-Gantry-Key (ordering key),
//        X-Gantry-Message-Id (dedup) and the trace context (traceparent, tracestate) are kept
//        -> {"topic", "offset", "id"} once durable ("duplicate": true for a repeated id)
//   GET  /api/v1/topics -> [{"topic", "first_offset", "next_offset", "messages", "bytes",
//        "subscriptions": [{"service", "committed", "lag", "in_flight", "delivered",
//        "redelivered", "dead_lettered"}]}]
//   GET  /api/v1/topics/{topic}?from=N&limit=M -> {"topic", "next_offset", "messages": [{"offset",
//        "id", "key", "time_ms", "headers", "payload" (base64)}]}
//   GET  /api/v1/topics/{topic}/events[?from=N] -> the topic followed live, as Server-Sent
//        Events (api/topic_stream.h); Last-Event-ID: N goes on after N
// Control-plane thread only.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "api/topic_stream.h"
#include "broker/broker.h"
#include "http/message.h"
#include "http/server.h"

namespace gantry::api {

class TopicsApi {
 public:
  TopicsApi(boost::asio::io_context& io, broker::Broker& broker,
            std::function<std::vector<broker::SubscriptionInfo>()> subscriptions)
      : broker_(broker), subscriptions_(std::move(subscriptions)), streams_(io, broker) {}
  // `rest` is the path after /api/v1/topics.
  void Handle(const http::Request& request, std::string_view rest, http::Respond respond);

 private:
  void Follow(const http::Request& request, const std::string& topic, http::Respond respond);

  broker::Broker& broker_;
  std::function<std::vector<broker::SubscriptionInfo>()> subscriptions_;
  TopicStreams streams_;
};

}  // namespace gantry::api
