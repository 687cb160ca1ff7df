// The agent's broker: the embedded one in the state folder, or NATS JetStream
// (--broker nats://...) with the app's topics as streams named after it. On the loop.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "broker/broker.h"
#include "broker/broker_url.h"

namespace boost::asio {
class io_context;
}

namespace gantry::agent {

absl::StatusOr<std::unique_ptr<broker::Broker>> OpenBrokerBackend(
    boost::asio::io_context& io, const broker::BrokerUrl& url,
    const std::filesystem::path& state_dir, const std::string& app_name);

}  // namespace gantry::agent
