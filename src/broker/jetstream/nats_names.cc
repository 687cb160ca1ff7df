#include "broker/jetstream/nats_names.h"

namespace gantry::broker::jetstream {

std::string Escape(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    if (c == '_') {
      out += "__";
    } else if (c == '.') {
      out += "_d";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Names::TopicOf(std::string_view stream) const {
  std::string prefix = "gantry_" + app + "_s";
  if (stream.substr(0, prefix.size()) != prefix) return "";
  std::string_view escaped = stream.substr(prefix.size());
  std::string topic;
  for (size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] != '_') {
      topic += escaped[i];
      continue;
    }
    if (i + 1 == escaped.size()) return "";  // not an escape gantry made
    char next = escaped[++i];
    if (next == '_') {
      topic += '_';
    } else if (next == 'd') {
      topic += '.';
    } else {
      return "";
    }
  }
  return topic;
}

}  // namespace gantry::broker::jetstream
