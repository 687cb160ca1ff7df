// One client connection on a worker: read a request, route it, exchange it upstream, answer.
// Internal to proxy/.
#pragma once

#include "net/asio.h"
#include "proxy/worker.h"

namespace gantry::proxy {

net::Awaitable<void> ServeClient(net::tcp::socket socket, Worker* worker, ListenerKind kind);

}  // namespace gantry::proxy
