// gantry dlq ls|replay TOPIC: the dead letters of TOPIC's subscriptions (the topic
// `<TOPIC>.dlq`, or --dlq NAME): list them, or publish them to TOPIC again (each with the id
// "<id>.replay-<dead-letter offset>", so a replay repeated within the dedup window adds
// nothing).
#include <cstdio>
#include <string>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "cli/agent_client.h"
#include "cli/commands.h"
#include "core/base64.h"
#include "core/status.h"

namespace gantry::cli {
namespace json = boost::json;

namespace {

std::string Header(const json::object& message, const char* name) {
  const json::object& headers = message.at("headers").as_object();
  auto it = headers.find(name);
  return it == headers.end() ? "" : std::string(it->value().as_string());
}

}  // namespace

int Dlq(const DlqFlags& flags) {
  std::string dlq = flags.dlq.empty() ? flags.topic + ".dlq" : flags.dlq;
  http::Request read;
  read.target = fmt::format("/api/v1/topics/{}?from={}&limit=10000", PathEscape(dlq), flags.from);
  auto answer = CallAgent(flags.locator, read);
  if (answer.ok() && answer->status == 404) {
    std::printf("no dead letters: topic %s does not exist\n", dlq.c_str());
    return 0;
  }
  if (!answer.ok() || answer->status != 200) {
    std::fprintf(stderr, "gantry dlq: %s\n",
                 answer.ok() ? ErrorOf(*answer).c_str()
                             : std::string(StatusMessage(answer.status())).c_str());
    return 1;
  }
  json::array messages = json::parse(answer->body).as_object().at("messages").as_array();
  if (flags.verb == "ls") {
    std::printf("%-8s %-10s %-12s %-36s %-42s %s\n", "OFFSET", "FROM", "SERVICE", "ID", "MESSAGE",
                "LAST FAILURE");
    for (const json::value& value : messages) {
      const json::object& m = value.as_object();
      std::string payload = Base64Decode(std::string(m.at("payload").as_string())).value_or("");
      if (payload.size() > 40) payload = payload.substr(0, 37) + "...";
      std::string from = Header(m, "x-gantry-original-offset");
      std::string failure = Header(m, "x-gantry-last-failure");
      std::printf("%-8lld %-10s %-12s %-36s %-42s %s\n",
                  static_cast<long long>(m.at("offset").to_number<int64_t>()),
                  from.empty() ? "-" : from.c_str(), Header(m, "x-gantry-service").c_str(),
                  std::string(m.at("id").as_string()).c_str(), payload.c_str(),
                  failure.empty() ? "-" : failure.c_str());
    }
    return 0;
  }
  int replayed = 0;
  for (const json::value& value : messages) {
    const json::object& m = value.as_object();
    http::Request request;
    request.method = "POST";
    request.target = "/api/v1/topics/" + PathEscape(flags.topic);
    request.body = Base64Decode(std::string(m.at("payload").as_string())).value_or("");
    request.headers.emplace_back("X-Gantry-Message-Id",
                                 fmt::format("{}.replay-{}", std::string(m.at("id").as_string()),
                                             m.at("offset").to_number<int64_t>()));
    if (std::string key(m.at("key").as_string()); !key.empty()) {
      request.headers.emplace_back("X-Gantry-Key", key);
    }
    if (std::string trace = Header(m, "traceparent"); !trace.empty()) {
      request.headers.emplace_back("traceparent", trace);
    }
    auto response = CallAgent(flags.locator, request);
    if (!response.ok() || response->status != 200) {
      std::fprintf(stderr, "gantry dlq replay: stopped after %d: %s\n", replayed,
                   response.ok() ? ErrorOf(*response).c_str()
                                 : std::string(StatusMessage(response.status())).c_str());
      return 1;
    }
    ++replayed;
  }
  std::printf("replayed %d message%s from %s to %s\n", replayed, replayed == 1 ? "" : "s",
              dlq.c_str(), flags.topic.c_str());
  return 0;
}

}  // namespace gantry::cli
