// gantry apply [-f file] [--dry-run]: prints what a changed app file would change in the
// running app, then (without --dry-run) applies it and waits until it is done.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <boost/json.hpp>

#include "cli/agent_client.h"
#include "cli/commands.h"
#include "core/status.h"

namespace gantry::cli {
namespace json = boost::json;
namespace {

// POSTs the file; prints the API's error (with every app file error) when not 2xx.
std::optional<json::object> Post(const ApplyFlags& flags, const std::string& text, bool dry_run) {
  http::Request request;
  request.method = "POST";
  request.target = std::string("/api/v1/apply") + (dry_run ? "?dry_run=true" : "");
  request.body = text;
  auto response = CallAgent(flags.locator, request, std::chrono::minutes(30));
  if (!response.ok()) {
    std::fprintf(stderr, "gantry apply: %s\n",
                 std::string(StatusMessage(response.status())).c_str());
    return std::nullopt;
  }
  boost::system::error_code ec;
  json::value body = json::parse(response->body, ec);
  if (response->status / 100 != 2) {
    if (!ec && body.is_object() && body.as_object().contains("errors")) {
      for (const auto& error : body.as_object().at("errors").as_array()) {
        std::fprintf(stderr, "%s\n", std::string(error.as_string()).c_str());
      }
    } else if (!ec && body.is_object() && body.as_object().contains("text") &&
               body.as_object().contains("error")) {
      std::fprintf(stderr, "gantry apply: %s\n",
                   std::string(body.as_object().at("error").as_string()).c_str());
    } else {
      std::fprintf(stderr, "gantry apply: %s\n", ErrorOf(*response).c_str());
    }
    return std::nullopt;
  }
  if (ec || !body.is_object()) {
    std::fprintf(stderr, "gantry apply: the agent's answer is not JSON\n");
    return std::nullopt;
  }
  return body.as_object();
}

}  // namespace

int Apply(const ApplyFlags& flags) {
  std::ifstream in(flags.file);
  if (!in) {
    std::fprintf(stderr, "gantry apply: cannot read %s\n", flags.file.c_str());
    return 1;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto plan = Post(flags, text.str(), true);
  if (!plan) return 1;
  std::printf("%s", std::string(plan->at("text").as_string()).c_str());
  if (flags.dry_run || plan->at("changes").as_array().empty()) return 0;
  std::fflush(stdout);
  auto applied = Post(flags, text.str(), false);
  if (!applied) return 1;
  std::printf("applied\n");
  return 0;
}

}  // namespace gantry::cli
