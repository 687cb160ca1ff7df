// The agent API server's connections, shared by server_connection.cc (reading requests and
// writing answers) and server_waiting.cc (requests whose handler answers later, and clients
// that leave meanwhile). Internal to http/: server.h is the interface.
// Thread affinity: everything runs on the server's io_context.
#pragma once

#include <time.h>

#include <array>
#include <chrono>
#include <list>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/steady_timer.hpp>

#include "http/h1_head.h"
#include "http/server.h"
#include "net/asio.h"

namespace gantry::http {
namespace server_internal {
class Connection;
}  // namespace server_internal

struct Server::State {
  explicit State(net::asio::any_io_executor executor) : sweep(executor) {}
  std::unique_ptr<net::tcp::acceptor> acceptor;
  Handler handler;
  // Connections whose request waits for its answer (parked), oldest first. One that waited
  // kWatchAfter is watched for its client leaving: a read that ends in EOF abandons it.
  std::list<std::weak_ptr<server_internal::Connection>> parked;
  net::asio::steady_timer sweep;
};

namespace server_internal {

using Clock = std::chrono::steady_clock;
// The same limits as the gateway's (proxy/client_conn.h): a connection may idle between
// requests for kIdleTimeout; from a request's first byte its head must come within
// kRequestTimeout, and its body must not stall for longer (else 408); an answer's bytes must be
// taken within kWriteTimeout.
constexpr auto kIdleTimeout = std::chrono::seconds(60);
constexpr auto kRequestTimeout = std::chrono::seconds(10);
constexpr auto kWriteTimeout = std::chrono::seconds(30);
constexpr auto kWatchdogTick = std::chrono::seconds(2);
// Most answers come in milliseconds (a durable write); only requests parked this long are
// watched for their client leaving, so that the quick ones cost no extra read.
constexpr auto kWatchAfter = std::chrono::seconds(1);
constexpr size_t kMaxBodyBytes = size_t{8} * 1024 * 1024;
constexpr size_t kReadChunk = 16 * 1024;
// The request line may take the whole head: long keys are the KV API's to refuse, with a reason.
const h1::Limits kLimits{.max_request_line = 16 * 1024, .max_head = 16 * 1024, .max_headers = 100};

// Deadlines are a minute away: the kernel's coarse clock (a few ms of resolution, no counter read)
// is good enough for them, and they are set several times per request.
inline Clock::time_point CoarseNow() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &now);  // the same epoch as steady_clock
  return Clock::time_point(std::chrono::seconds(now.tv_sec) +
                           std::chrono::nanoseconds(now.tv_nsec));
}

// The handler's side of a request it answers later; the connection waits for Finish. The
// first of the answer and the client's leaving wins (`done`).

class Waiting : public Abandonment {
 public:
  virtual void Finish(std::optional<Response> response) = 0;  // resumes the connection
  void Abandon() { Abandoned(); }
  bool done = false;
  bool in_handler = true;
};

template <typename Completion>
class WaitingFor final : public Waiting {
 public:
  explicit WaitingFor(Completion completion) : completion_(std::move(completion)) {}
  void Finish(std::optional<Response> response) override { completion_(std::move(response)); }
  Completion& completion() { return completion_; }

 private:
  Completion completion_;
};

// One client connection: requests read with the data plane's strict HTTP/1.1 parser, answered
// in order. A watchdog acts when the current deadline passes (408 for a request that stalls,
// else the socket is closed), so that no read or write needs a timer of its own.

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(net::tcp::socket socket, std::shared_ptr<Server::State> state)
      : socket_(std::move(socket)),
        state_(std::move(state)),
        watchdog_(socket_.get_executor()),
        watch_ended_(socket_.get_executor()) {}

  net::Awaitable<void> Serve();
  // Parked for kWatchAfter: watch for the client leaving (the server's sweep calls it).
  void WatchIfParkedSince(Clock::time_point before);

 private:
  enum class Read { kOk, kClosed, kRefused, kTimedOut };
  enum class Wait { kIdle, kRequest, kWrite, kNone };
  struct Facts {
    bool keep_alive = true;
    bool http_1_0 = false;
    bool head_only = false;
  };
  net::Awaitable<Read> ReadRequest(Request& request, Facts& facts);
  net::Awaitable<Read> ReadBody(const h1::RequestHead& head, Request& request);
  net::Awaitable<Read> ReadMore();
  net::Awaitable<bool> Write(std::string data);
  net::Awaitable<void> Refuse(int status, std::string_view why);
  net::Awaitable<void> StreamBody(Response& answer);
  net::Awaitable<void> Watch();
  // The handler's answer; nullopt when the client left first.
  net::Awaitable<std::optional<Response>> AskHandler(Request request);
  void Answered(Waiting& waiting);
  void Park();
  void Unpark();
  net::Awaitable<void> WatchClient();
  void Deadline(Wait wait, std::chrono::seconds after) {
    waiting_for_ = wait;
    deadline_ = CoarseNow() + after;
  }
  void NoDeadline() {
    waiting_for_ = Wait::kNone;
    deadline_ = Clock::time_point::max();
  }

  net::tcp::socket socket_;
  std::shared_ptr<Server::State> state_;
  net::asio::steady_timer watchdog_;
  Clock::time_point deadline_ = Clock::time_point::max();
  Wait waiting_for_ = Wait::kNone;
  bool timed_out_ = false;  // a request stalled: the reads were cancelled, 408 is due
  bool done_ = false;
  // While the handler has the request: what it answers through, and the watch for the client.
  std::weak_ptr<Waiting> waiting_;
  std::optional<std::list<std::weak_ptr<Connection>>::iterator> parked_at_;
  Clock::time_point parked_since_{};
  bool watching_ = false;
  net::asio::steady_timer watch_ended_;
  std::string buffer_;
  std::array<char, kReadChunk> scratch_;
  h1::RequestHead head_;
};

// Once a kWatchAfter while the server runs: parked requests that waited that long are watched.
net::Awaitable<void> Sweep(std::shared_ptr<Server::State> state);

}  // namespace server_internal
}  // namespace gantry::http
