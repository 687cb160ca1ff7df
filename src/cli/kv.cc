// gantry kv get|put|del|ls|watch: the store's keys from the shell, through the agent API.
#include <cstdio>
#include <iostream>
#include <iterator>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "cli/agent_client.h"
#include "cli/commands.h"
#include "core/base64.h"
#include "core/duration.h"
#include "core/status.h"

namespace gantry::cli {
namespace json = boost::json;
namespace {

constexpr Duration kWatchWait = std::chrono::minutes(1);  // per long poll

http::Request Make(std::string method, const std::string& key, const std::string& query) {
  http::Request request;
  request.method = std::move(method);
  request.target = "/api/v1/kv/" + PathEscape(key) + query;
  return request;
}

// Sends the request; on failure prints "gantry kv <verb>: reason" and returns nullopt.
std::optional<http::Response> Send(const KvFlags& flags, const http::Request& request,
                                   Duration timeout = std::chrono::seconds(10)) {
  auto response = CallAgent(flags.locator, request, timeout);
  if (!response.ok()) {
    std::fprintf(stderr, "gantry kv %s: %s\n", flags.verb.c_str(),
                 std::string(StatusMessage(response.status())).c_str());
    return std::nullopt;
  }
  if (response->status / 100 != 2) {
    std::fprintf(stderr, "gantry kv %s: %s\n", flags.verb.c_str(), ErrorOf(*response).c_str());
    return std::nullopt;
  }
  return std::move(*response);
}

std::string Query(std::initializer_list<std::pair<const char*, std::string>> params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (value.empty()) continue;
    out += out.empty() ? '?' : '&';
    out += fmt::format("{}={}", name, value);
  }
  return out;
}

int Get(const KvFlags& flags) {
  auto response = Send(flags, Make("GET", flags.key, ""));
  if (!response) return 1;
  std::fwrite(response->body.data(), 1, response->body.size(), stdout);
  if (response->body.empty() || response->body.back() != '\n') std::fputc('\n', stdout);
  return 0;
}

int Put(const KvFlags& flags) {
  http::Request request =
      Make("PUT", flags.key,
           Query({{"lease", flags.lease}, {"cas", flags.cas ? std::to_string(*flags.cas) : ""}}));
  if (flags.value && *flags.value != "-") {
    request.body = *flags.value;
  } else {
    request.body.assign(std::istreambuf_iterator<char>(std::cin), {});
  }
  auto response = Send(flags, request);
  if (!response) return 1;
  std::printf("revision %lld\n",
              static_cast<long long>(json::parse(response->body).at("revision").as_int64()));
  return 0;
}

int Del(const KvFlags& flags) {
  auto response = Send(flags, Make("DELETE", flags.key,
                                   Query({{"prefix", flags.prefix ? "true" : ""},
                                          {"cas", flags.cas ? std::to_string(*flags.cas) : ""}})));
  if (!response) return 1;
  const json::object body = json::parse(response->body).as_object();
  std::printf("deleted %lld\n", static_cast<long long>(body.at("deleted").as_int64()));
  return 0;
}

int Ls(const KvFlags& flags) {
  auto response = Send(flags, Make("GET", flags.key, "?prefix=true"));
  if (!response) return 1;
  if (flags.output == "json") {
    std::fputs(response->body.c_str(), stdout);
    return 0;
  }
  json::value rows = json::parse(response->body);
  for (const auto& row : rows.as_array()) {
    std::printf("%s\n", std::string(row.at("key").as_string()).c_str());
  }
  return 0;
}

// One line per event: "<revision> PUT <key> <value>" or "<revision> DELETE <key>".
int Watch(const KvFlags& flags) {
  int64_t from = flags.from;
  int64_t printed = 0;
  for (;;) {
    auto response = Send(flags,
                         Make("GET", flags.key,
                              Query({{"prefix", flags.prefix ? "true" : ""},
                                     {"watch", std::to_string(from)},
                                     {"wait", FormatDuration(kWatchWait)}})),
                         kWatchWait + std::chrono::seconds(10));
    if (!response) return 1;
    json::object answer = json::parse(response->body).as_object();
    for (const auto& value : answer.at("events").as_array()) {
      const json::object& event = value.as_object();
      std::string type(event.at("type").as_string());
      std::string line =
          fmt::format("{} {} {}", event.at("mod_revision").as_int64(),
                      type == "put" ? "PUT" : "DELETE", std::string(event.at("key").as_string()));
      if (type == "put") {
        line += ' ';
        line += Base64Decode(std::string(event.at("value").as_string())).value_or("?");
      }
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
      if (flags.count > 0 && ++printed >= flags.count) return 0;
    }
    from = answer.at("revision").as_int64() + 1;
  }
}

}  // namespace

int Kv(const KvFlags& flags) {
  if (flags.output != "table" && flags.output != "json") {
    std::fprintf(stderr, "gantry kv %s: -o must be table or json\n", flags.verb.c_str());
    return 2;
  }
  try {
    if (flags.verb == "get") return Get(flags);
    if (flags.verb == "put") return Put(flags);
    if (flags.verb == "del") return Del(flags);
    if (flags.verb == "ls") return Ls(flags);
    return Watch(flags);
  } catch (const std::exception& e) {  // Boost.JSON on an answer of the wrong shape
    std::fprintf(stderr, "gantry kv %s: unexpected answer from the agent: %s\n", flags.verb.c_str(),
                 e.what());
    return 1;
  }
}

}  // namespace gantry::cli
