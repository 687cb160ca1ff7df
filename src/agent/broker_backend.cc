#include "agent/broker_backend.h"

#include "broker/embedded_broker.h"
#include "broker/jetstream/jetstream_broker.h"
#include "core/status.h"

namespace gantry::agent {

absl::StatusOr<std::unique_ptr<broker::Broker>> OpenBrokerBackend(
    boost::asio::io_context& io, const broker::BrokerUrl& url,
    const std::filesystem::path& state_dir, const std::string& app_name) {
  if (url.kind == broker::BrokerUrl::Kind::kEmbedded) {
    GANTRY_ASSIGN_OR_RETURN(auto embedded, broker::EmbeddedBroker::Open(io, state_dir / "broker"));
    return std::unique_ptr<broker::Broker>(std::move(embedded));
  }
  broker::JetStreamOptions options;
  for (const HostPort& server : url.servers) options.servers.push_back(server.ToString());
  options.app = app_name;
  options.replicas = url.replicas;
  GANTRY_ASSIGN_OR_RETURN(auto jetstream, broker::JetStreamBroker::Open(io, std::move(options)));
  return std::unique_ptr<broker::Broker>(std::move(jetstream));
}

}  // namespace gantry::agent
