// gantry pub TOPIC [DATA]: publishes one message (DATA, or standard input) and prints its offset
// once the agent has it on disk.
#include <cstdio>
#include <iostream>
#include <iterator>

#include <boost/json.hpp>

#include "cli/agent_client.h"
#include "cli/commands.h"
#include "core/status.h"

namespace gantry::cli {

int Pub(const PubFlags& flags) {
  http::Request request;
  request.method = "POST";
  request.target = "/api/v1/topics/" + PathEscape(flags.topic);
  if (flags.data) {
    request.body = *flags.data;
  } else {
    request.body.assign(std::istreambuf_iterator<char>(std::cin), {});
  }
  if (!flags.key.empty()) request.headers.emplace_back("X-Gantry-Key", flags.key);
  if (!flags.id.empty()) request.headers.emplace_back("X-Gantry-Message-Id", flags.id);
  auto response = CallAgent(flags.locator, request);
  if (!response.ok()) {
    std::fprintf(stderr, "gantry pub: %s\n", std::string(StatusMessage(response.status())).c_str());
    return 1;
  }
  if (response->status != 200) {
    std::fprintf(stderr, "gantry pub: %s\n", ErrorOf(*response).c_str());
    return 1;
  }
  auto answer = boost::json::parse(response->body).as_object();
  std::printf("%s offset %lld%s\n", flags.topic.c_str(),
              static_cast<long long>(answer.at("offset").to_number<int64_t>()),
              answer.contains("duplicate") ? " (a repeated id: already published)" : "");
  return 0;
}

}  // namespace gantry::cli
