// gantry sub TOPIC: follows a topic live (GET /api/v1/topics/{topic}/events, Server-Sent
// Events) and prints each message's payload on a line of its own, or the message as JSON with
// --json. Starts with the next message published, or at --from. Runs until interrupted, or
// until --count messages were printed.
#include <cstdio>
#include <string>

#include <boost/json.hpp>

#include "cli/agent_client.h"
#include "cli/commands.h"
#include "core/base64.h"
#include "core/status.h"
#include "http/client.h"

namespace gantry::cli {

namespace {

// Splits the event stream into events and hands each one's data to `on_event`.
class EventParser {
 public:
  template <typename OnEvent>
  bool Feed(std::string_view text, OnEvent&& on_event) {
    pending_.append(text);
    size_t end;
    while ((end = pending_.find("\n\n")) != std::string::npos) {
      std::string event = pending_.substr(0, end + 1);
      pending_.erase(0, end + 2);
      std::string data;
      size_t pos = 0;
      while (pos < event.size()) {
        size_t line_end = event.find('\n', pos);
        std::string_view line(event.data() + pos, line_end - pos);
        pos = line_end + 1;
        if (line.starts_with("data:")) {
          line.remove_prefix(line.starts_with("data: ") ? 6 : 5);
          if (!data.empty()) data += '\n';
          data.append(line);
        }
      }
      if (!data.empty() && !on_event(data)) return false;  // comments carry no data
    }
    return true;
  }

 private:
  std::string pending_;
};

}  // namespace

int Sub(const SubFlags& flags) {
  auto api = FindAgent(flags.locator);
  if (!api.ok()) {
    std::fprintf(stderr, "gantry sub: %s\n", std::string(StatusMessage(api.status())).c_str());
    return 1;
  }
  http::Request request;
  request.target = "/api/v1/topics/" + PathEscape(flags.topic) + "/events";
  if (flags.from) request.target += "?from=" + std::to_string(*flags.from);
  EventParser parser;
  int64_t printed = 0;
  std::string failure;
  auto on_event = [&](const std::string& data) {
    if (flags.json) {
      std::printf("%s\n", data.c_str());
    } else {
      boost::system::error_code ec;
      auto message = boost::json::parse(data, ec);
      const boost::json::value* payload =
          !ec && message.is_object() ? message.as_object().if_contains("payload") : nullptr;
      auto decoded = payload && payload->is_string()
                         ? Base64Decode(std::string(payload->as_string()))
                         : std::nullopt;
      if (!decoded) {
        failure = "the agent sent an event that is not a message: " + data;
        return false;
      }
      std::fwrite(decoded->data(), 1, decoded->size(), stdout);
      std::fputc('\n', stdout);
    }
    std::fflush(stdout);
    return flags.count == 0 || ++printed < flags.count;
  };
  auto response =
      http::FetchStreaming(api->api, request, std::chrono::seconds(10),
                           [&](std::string_view piece) { return parser.Feed(piece, on_event); });
  if (!response.ok()) {
    std::fprintf(stderr, "gantry sub: %s\n", std::string(StatusMessage(response.status())).c_str());
    return 1;
  }
  if (response->status / 100 != 2) {
    std::fprintf(stderr, "gantry sub: %s\n", ErrorOf(*response).c_str());
    return 1;
  }
  if (!failure.empty()) {
    std::fprintf(stderr, "gantry sub: %s\n", failure.c_str());
    return 1;
  }
  if (flags.count > 0 && printed < flags.count) {
    std::fprintf(stderr, "gantry sub: the agent ended the stream\n");
    return 1;
  }
  return 0;
}

}  // namespace gantry::cli
