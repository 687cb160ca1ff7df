// GET /api/v1/topics/{topic}/events: a topic followed live as Server-Sent Events (what
// `gantry sub` reads). Not a consumer group: nothing is acknowledged and no offset is kept; a
// client that reconnects with Last-Event-ID (or ?from=N) goes on from there. Each message is
//   id: <offset>
//   data: {"offset", "id", "key", "time_ms", "headers", "payload" (base64)}
// followed by an empty line; a comment line every 15 s keeps idle connections open. A client
// that reads too slowly is dropped (http::BodyStream's bound); a far-behind one is fed a batch
// at a time, each once the previous one went out.
// Control-plane thread only.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "broker/broker.h"
#include "http/message.h"

namespace boost::asio {
class io_context;
}

namespace gantry::api {

// A message as the topics API shows it.
boost::json::object MessageToJson(const broker::Message& message);

class TopicStreams {
 public:
  TopicStreams(boost::asio::io_context& io, broker::Broker& broker);
  ~TopicStreams();

  // The answer that starts following `topic` at `from` (default: the next message published).
  http::Response Follow(const std::string& topic, std::optional<uint64_t> from);
  size_t followers() const { return followers_.size(); }

 private:
  struct Follower;
  void Pump(const std::shared_ptr<Follower>& follower);
  void OnPublished(const std::string& topic);
  void KeepAlive();

  broker::Broker& broker_;
  std::shared_ptr<bool> alive_;
  std::list<std::shared_ptr<Follower>> followers_;
  struct Timer;
  std::unique_ptr<Timer> keepalive_;
};

}  // namespace gantry::api
