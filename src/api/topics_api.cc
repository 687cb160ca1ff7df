#include "api/topics_api.h"

#include <charconv>

#include <fmt/format.h>

#include <boost/json.hpp>

#include "api/json_http.h"
#include "core/status.h"
#include "core/strings.h"

namespace gantry::api {

namespace json = boost::json;

namespace {
constexpr int64_t kDefaultReadLimit = 100;
constexpr int64_t kMaxReadLimit = 10'000;
// Request fields kept with a message: the trace context travels with it to subscribers.
constexpr std::string_view kCarriedHeaders[] = {"traceparent", "tracestate"};
// {"topic", "offset", "id"[, "duplicate"]}, built by appends: it is the answer of the hot path.
http::Response PublishAnswer(std::string_view topic, const broker::Broker::Published& published) {
  http::Response response;
  response.headers.emplace_back("Content-Type", "application/json");
  std::string& body = response.body;
  body.reserve(48 + topic.size() + published.id.size());
  body += R"({"topic":")";
  http::AppendJsonEscaped(body, topic);
  body += R"(","offset":)";
  AppendNumber(body, published.offset);
  body += R"(,"id":")";
  http::AppendJsonEscaped(body, published.id);
  body += published.duplicate ? "\",\"duplicate\":true}\n" : "\"}\n";
  return response;
}

}  // namespace

void TopicsApi::Follow(const http::Request& request, const std::string& topic,
                       http::Respond respond) {
  if (request.method != "GET") return respond(MethodNotAllowed(request, "GET"));
  IntParam from = ParseIntParam(request.Query(), "from");
  if (from.error) return respond(std::move(*from.error));
  std::optional<uint64_t> start;
  if (from.value) start = static_cast<uint64_t>(std::max<int64_t>(0, *from.value));
  // An EventSource reconnecting says the last id it saw.
  if (std::string_view last = request.Header("Last-Event-ID"); !last.empty() && !start) {
    uint64_t seen = 0;
    auto [end, error] = std::from_chars(last.data(), last.data() + last.size(), seen);
    if (error != std::errc() || end != last.data() + last.size()) {
      return respond(http::JsonError(400, "invalid_argument", "Last-Event-ID is not an offset"));
    }
    start = seen + 1;
  }
  respond(streams_.Follow(topic, start));
}

void TopicsApi::Handle(const http::Request& request, std::string_view rest, http::Respond respond) {
  if (rest.empty() || rest == "/") {
    if (request.method != "GET" && request.method != "HEAD") {
      return respond(MethodNotAllowed(request, "GET"));
    }
    std::vector<broker::SubscriptionInfo> subscriptions;
    if (subscriptions_) subscriptions = subscriptions_();
    json::array topics;
    for (const auto& topic : broker_.Topics()) {
      json::array subs;
      for (const auto& sub : subscriptions) {
        if (sub.topic != topic.name) continue;
        uint64_t lag = topic.next_offset > sub.committed ? topic.next_offset - sub.committed : 0;
        subs.push_back(json::object{{"service", sub.service},
                                    {"committed", sub.committed},
                                    {"lag", lag},
                                    {"in_flight", sub.in_flight},
                                    {"delivered", sub.delivered},
                                    {"redelivered", sub.redelivered},
                                    {"dead_lettered", sub.dead_lettered}});
      }
      topics.push_back(json::object{{"topic", topic.name},
                                    {"first_offset", topic.first_offset},
                                    {"next_offset", topic.next_offset},
                                    {"messages", topic.messages},
                                    {"bytes", topic.bytes},
                                    {"subscriptions", subs}});
    }
    return respond(Json(topics));
  }
  constexpr std::string_view kEvents = "/events";
  if (rest.size() > kEvents.size() + 1 && rest.ends_with(kEvents) &&
      rest.find('/', 1) == rest.size() - kEvents.size()) {
    return Follow(request, std::string(rest.substr(1, rest.size() - kEvents.size() - 1)),
                  std::move(respond));
  }
  if (rest[0] != '/' || rest.find('/', 1) != std::string_view::npos) {
    return respond(http::JsonError(404, "not_found",
                                   "use /api/v1/topics/{topic} or /api/v1/topics/{topic}/events"));
  }
  std::string topic(rest.substr(1));
  if (request.method == "POST") {
    broker::Broker::Outgoing message;
    message.id = std::string(request.Header("X-Gantry-Message-Id"));
    message.key = std::string(request.Header("X-Gantry-Key"));
    for (std::string_view name : kCarriedHeaders) {
      if (std::string_view value = request.Header(name); !value.empty()) {
        message.headers.emplace_back(name, value);
      }
    }
    message.payload = request.body;
    return broker_.Publish(topic, std::move(message),
                           [respond, topic](absl::StatusOr<broker::Broker::Published> published) {
                             if (!published.ok()) return respond(ErrorFor(published.status()));
                             respond(PublishAnswer(topic, *published));
                           });
  }
  if (request.method == "GET" || request.method == "HEAD") {
    IntParam from = ParseIntParam(request.Query(), "from");
    if (from.error) return respond(std::move(*from.error));
    IntParam limit = ParseIntParam(request.Query(), "limit");
    if (limit.error) return respond(std::move(*limit.error));
    int64_t max = std::clamp<int64_t>(limit.value.value_or(kDefaultReadLimit), 1, kMaxReadLimit);
    uint64_t start = static_cast<uint64_t>(std::max<int64_t>(0, from.value.value_or(0)));
    return broker_.Read(
        topic, start, static_cast<size_t>(max),
        [respond, topic, start](absl::StatusOr<std::vector<broker::Message>> messages) {
          if (!messages.ok()) return respond(ErrorFor(messages.status()));
          json::array out;
          uint64_t next = start;
          for (const broker::Message& m : *messages) {
            out.push_back(MessageToJson(m));
            next = m.offset + 1;
          }
          respond(Json(json::object{{"topic", topic}, {"next_offset", next}, {"messages", out}}));
        });
  }
  respond(MethodNotAllowed(request, "GET, POST"));
}

}  // namespace gantry::api
