// gantry events [-f] [-o json]: what happened to the app, from the agent's event log.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include <boost/json.hpp>

#include "cli/agent_client.h"
#include "cli/commands.h"
#include "core/status.h"

namespace gantry::cli {
namespace json = boost::json;
namespace {

std::string LocalTime(int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
  return text;
}

void Print(const json::object& event, bool as_json) {
  if (as_json) {
    std::printf("%s\n", json::serialize(event).c_str());
  } else {
    std::string who(event.at("instance").as_string());
    if (who.empty()) who = std::string(event.at("service").as_string());
    std::printf("%s  %-9s %-16s %s\n", LocalTime(event.at("time_ms").as_int64()).c_str(),
                std::string(event.at("kind").as_string()).c_str(), who.c_str(),
                std::string(event.at("message").as_string()).c_str());
  }
  std::fflush(stdout);
}

}  // namespace

int Events(const AgentLocator& locator, bool follow, const std::string& output) {
  bool as_json = output == "json";
  if (!as_json && output != "table") {
    std::fprintf(stderr, "gantry events: -o takes table or json\n");
    return 2;
  }
  uint64_t index = 0;
  for (;;) {
    http::Request request;
    request.target = index == 0 ? "/api/v1/events"
                                : "/api/v1/events?index=" + std::to_string(index) + "&wait=60s";
    auto response = CallAgent(locator, request, std::chrono::seconds(75));
    if (!response.ok()) {
      std::fprintf(stderr, "gantry events: %s\n",
                   std::string(StatusMessage(response.status())).c_str());
      return 1;
    }
    if (response->status != 200) {
      std::fprintf(stderr, "gantry events: %s\n", ErrorOf(*response).c_str());
      return 1;
    }
    boost::system::error_code ec;
    json::value events = json::parse(response->body, ec);
    if (ec || !events.is_array()) {
      std::fprintf(stderr, "gantry events: the agent's answer is not a JSON array\n");
      return 1;
    }
    for (const json::value& event : events.as_array()) {
      if (!event.is_object()) continue;
      const json::object& o = event.as_object();
      if (auto* i = o.if_contains("index"); i && i->is_number()) {
        index = std::max<uint64_t>(index, i->to_number<uint64_t>());
      }
      Print(o, as_json);
    }
    if (!follow) return 0;
  }
}

}  // namespace gantry::cli
