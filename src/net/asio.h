// The Asio pieces gantry uses, and short names for them. Include only from .cc files and from
// headers of the adapter folders (net/, http/).
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace gantry::net {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
template <typename T>
using Awaitable = asio::awaitable<T>;
// Completion token for coroutines that want (error_code, result) instead of exceptions.
inline constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
}  // namespace gantry::net
