#include "api/topic_stream.h"

#include <fmt/format.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/json/serialize.hpp>

#include "core/base64.h"
#include "core/status.h"
#include "net/asio.h"

namespace gantry::api {

namespace json = boost::json;

namespace {
constexpr size_t kBatch = 256;  // messages read and written before waiting for the socket
constexpr auto kKeepAliveEvery = std::chrono::seconds(15);
}  // namespace

json::object MessageToJson(const broker::Message& m) {
  json::object headers;
  for (const auto& [name, value] : m.headers) headers[name] = value;
  return json::object{{"offset", m.offset}, {"id", m.id},
                      {"key", m.key},       {"time_ms", m.time_ms},
                      {"headers", headers}, {"payload", Base64Encode(m.payload)}};
}

struct TopicStreams::Follower {
  std::string topic;
  uint64_t next = 0;
  std::shared_ptr<http::BodyStream> stream;
  bool waiting = false;  // for the stream to take what was written
  bool reading = false;  // a Read of the broker on its way
};

struct TopicStreams::Timer {
  explicit Timer(net::asio::io_context& io) : timer(io) {}
  net::asio::steady_timer timer;
};

TopicStreams::TopicStreams(net::asio::io_context& io, broker::Broker& broker)
    : broker_(broker),
      alive_(std::make_shared<bool>(true)),
      keepalive_(std::make_unique<Timer>(io)) {
  std::weak_ptr<bool> alive = alive_;
  broker_.OnPublished([this, alive](const std::string& topic) {
    if (!alive.expired()) OnPublished(topic);
  });
  KeepAlive();
}

TopicStreams::~TopicStreams() {
  *alive_ = false;
  alive_.reset();
  keepalive_->timer.cancel();
}

http::Response TopicStreams::Follow(const std::string& topic, std::optional<uint64_t> from) {
  if (absl::Status valid = broker::Broker::CheckTopicName(topic); !valid.ok()) {
    return http::JsonError(400, "invalid_argument", StatusMessage(valid));
  }
  auto follower = std::make_shared<Follower>();
  follower->topic = topic;
  follower->next = from.value_or(broker_.NextOffset(topic));
  http::Response response;
  response.headers = {{"Content-Type", "text/event-stream"}, {"Cache-Control", "no-cache"}};
  std::weak_ptr<bool> alive = alive_;
  response.stream = [this, alive, follower](std::shared_ptr<http::BodyStream> stream) {
    if (alive.expired()) return stream->End();
    follower->stream = std::move(stream);
    auto it = followers_.insert(followers_.end(), follower);
    follower->stream->OnClose([this, alive, it] {
      if (!alive.expired()) followers_.erase(it);
    });
    // A first comment, so that the client knows at once that it is following.
    follower->stream->Write(
        fmt::format(": following {} from offset {}\n\n", follower->topic, follower->next));
    Pump(follower);
  };
  return response;
}

void TopicStreams::Pump(const std::shared_ptr<Follower>& follower) {
  if (follower->waiting || follower->reading || !follower->stream->open()) return;
  if (follower->next >= broker_.NextOffset(follower->topic)) return;
  follower->reading = true;
  std::weak_ptr<bool> alive = alive_;
  broker_.Read(follower->topic, follower->next, kBatch,
               [this, alive, follower](absl::StatusOr<std::vector<broker::Message>> messages) {
                 if (alive.expired()) return;
                 follower->reading = false;
                 if (!messages.ok() || messages->empty() || !follower->stream->open()) return;
                 std::string events;
                 for (const broker::Message& message : *messages) {
                   events += fmt::format("id: {}\ndata: {}\n\n", message.offset,
                                         json::serialize(MessageToJson(message)));
                   follower->next = message.offset + 1;
                 }
                 if (!follower->stream->Write(events)) return;  // gone, or too slow: dropped
                 // What was published meanwhile goes once the stream took this batch.
                 follower->waiting = true;
                 follower->stream->OnWritable([this, alive, follower] {
                   if (alive.expired()) return;
                   follower->waiting = false;
                   Pump(follower);
                 });
               });
}

void TopicStreams::OnPublished(const std::string& topic) {
  for (auto it = followers_.begin(); it != followers_.end();) {
    auto follower = *it++;  // a follower dropped by Pump erases itself from the list
    if (follower->topic == topic) Pump(follower);
  }
}

void TopicStreams::KeepAlive() {
  keepalive_->timer.expires_after(kKeepAliveEvery);
  std::weak_ptr<bool> alive = alive_;
  keepalive_->timer.async_wait([this, alive](boost::system::error_code error) {
    if (error || alive.expired()) return;
    for (auto it = followers_.begin(); it != followers_.end();) {
      auto follower = *it++;  // a write that finds the client gone erases the follower
      follower->stream->Write(": keepalive\n\n");
    }
    KeepAlive();
  });
}

}  // namespace gantry::api
