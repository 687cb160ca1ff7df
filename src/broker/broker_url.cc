#include "broker/broker_url.h"

#include <charconv>

#include <fmt/format.h>

namespace gantry::broker {

absl::StatusOr<BrokerUrl> ParseBrokerUrl(std::string_view text) {
  BrokerUrl url;
  if (text.empty()) return url;
  constexpr std::string_view kNats = "nats://";
  auto bad = [text](std::string_view why) {
    return absl::InvalidArgumentError(fmt::format("--broker {}: {}", text, why));
  };
  if (!text.starts_with(kNats)) {
    return bad(
        "expected nats://host:port[,host:port...][?replicas=N] (or nothing, for the "
        "embedded broker)");
  }
  url.kind = BrokerUrl::Kind::kJetStream;
  std::string_view rest = text.substr(kNats.size());
  if (size_t query = rest.find('?'); query != std::string_view::npos) {
    std::string_view option = rest.substr(query + 1);
    rest = rest.substr(0, query);
    constexpr std::string_view kReplicas = "replicas=";
    if (!option.starts_with(kReplicas)) return bad("the one option is ?replicas=N");
    std::string_view number = option.substr(kReplicas.size());
    auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), url.replicas);
    if (error != std::errc() || end != number.data() + number.size() || url.replicas < 1 ||
        url.replicas > 5) {
      return bad("replicas is 1 to 5 (JetStream's limit)");
    }
  }
  auto servers = ParseEndpointList(rest);
  if (!servers.ok()) {
    std::string why(servers.status().message());
    if (why.ends_with("a port is needed")) why += " (NATS's is usually 4222)";
    return bad(why);
  }
  url.servers = *std::move(servers);
  return url;
}

}  // namespace gantry::broker
