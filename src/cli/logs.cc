// gantry logs [-f] [--tail N] svc[/instance]: replica output through the agent API. With
// several replicas, each line is prefixed with its replica's id (as docker compose does).
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "cli/agent_client.h"
#include "cli/commands.h"
#include "core/status.h"

namespace gantry::cli {
namespace json = boost::json;
namespace {

// The replicas `target` names: "svc/instance" one, "svc" all of the service's, else the
// target as an instance id.
absl::StatusOr<std::vector<std::string>> Resolve(const AgentLocator& locator,
                                                 const std::string& target) {
  size_t slash = target.find('/');
  if (slash != std::string::npos) return std::vector<std::string>{target.substr(slash + 1)};
  http::Request request;
  request.target = "/api/v1/replicas?service=" + PathEscape(target);
  auto answer = CallAgent(locator, request);
  if (!answer.ok()) return answer.status();
  // No service of that name (404): perhaps an instance id; the logs API says if not.
  if (answer->status == 404) return std::vector<std::string>{target};
  if (answer->status / 100 != 2) return absl::UnavailableError(ErrorOf(*answer));
  boost::system::error_code ec;
  json::value replicas = json::parse(answer->body, ec);
  std::vector<std::string> ids;
  if (!ec && replicas.is_array()) {
    for (const json::value& replica : replicas.as_array()) {
      if (replica.is_object() && replica.as_object().contains("id")) {
        ids.emplace_back(replica.as_object().at("id").as_string());
      }
    }
  }
  if (ids.empty()) ids.push_back(target);  // perhaps an instance id; the API says if not
  return ids;
}

// Prints `text` line by line with `prefix`; a last line without its newline waits in `partial`.
void PrintLines(const std::string& prefix, const std::string& text, std::string& partial) {
  partial += text;
  size_t start = 0;
  for (size_t newline; (newline = partial.find('\n', start)) != std::string::npos;
       start = newline + 1) {
    std::printf("%s%.*s\n", prefix.c_str(), static_cast<int>(newline - start),
                partial.data() + start);
  }
  partial.erase(0, start);
  std::fflush(stdout);
}

}  // namespace

int Logs(const LogsFlags& flags) {
  auto ids = Resolve(flags.locator, flags.target);
  if (!ids.ok()) {
    std::fprintf(stderr, "gantry logs: %s\n", std::string(StatusMessage(ids.status())).c_str());
    return 1;
  }
  struct Follow {
    uint64_t offset = 0;
    std::string partial;
  };
  std::map<std::string, Follow> state;
  bool first = true;
  for (;;) {
    for (const std::string& id : *ids) {
      Follow& follow = state[id];
      http::Request request;
      request.target = "/api/v1/logs/" + PathEscape(id) +
                       (first ? "?tail=" + std::to_string(flags.tail)
                              : "?offset=" + std::to_string(follow.offset));
      auto response = CallAgent(flags.locator, request);
      if (!response.ok()) {
        std::fprintf(stderr, "gantry logs: %s\n",
                     std::string(StatusMessage(response.status())).c_str());
        return 1;
      }
      if (response->status != 200) {
        std::fprintf(stderr, "gantry logs: %s\n", ErrorOf(*response).c_str());
        return 1;
      }
      std::string offset(response->Header("X-Gantry-Offset"));
      follow.offset = offset.empty() ? follow.offset : std::stoull(offset);
      PrintLines(ids->size() > 1 ? id + " | " : "", response->body, follow.partial);
    }
    first = false;
    if (!flags.follow) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace gantry::cli
