// How gantry's names map onto NATS JetStream's: a topic is the stream
// "gantry_<app>_s<topic>" with the one subject "gantry.<app>.<topic>", a consumer group the
// durable consumer named after it. NATS forbids '.' in stream and consumer names and uses it
// to split subjects, so each name is escaped ('_' -> "__", '.' -> "_d"): one to one, and
// within [A-Za-z0-9_-]; "_s" (which no escaped name holds) ends the app's part.
#pragma once

#include <string>
#include <string_view>

namespace gantry::broker::jetstream {

std::string Escape(std::string_view name);

struct Names {
  std::string app;  // escaped
  std::string Stream(std::string_view topic) const {
    return "gantry_" + app + "_s" + Escape(topic);
  }
  std::string Subject(std::string_view topic) const {
    return "gantry." + app + "." + Escape(topic);
  }
  // The topic of one of this app's streams; "" for a stream of anything else.
  std::string TopicOf(std::string_view stream) const;
};

}  // namespace gantry::broker::jetstream
