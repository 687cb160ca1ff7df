// Requests whose handler answers later (a durable write, a parked query, a lock wait): the
// connection waits for the answer, and a client that leaves meanwhile is noticed once its
// request has waited a while.
#include <vector>

#include "http/server_connection.h"

namespace gantry::http::server_internal {

// Suspends the connection until the handler responds, or until its client leaves (seen by the
// watch of a request parked for long). An answer given during the handler's own call is posted,
// so that the connection does not resume inside it; a later one (after a write became durable,
// a parked query woke) resumes the connection at once, saving a trip through the loop's queue
// on every such request.
net::Awaitable<std::optional<Response>> Connection::AskHandler(Request request) {
  co_return co_await net::asio::async_initiate<decltype(net::asio::use_awaitable),
                                               void(std::optional<Response>)>(
      [this, &request](auto completion) {
        auto waiting = std::make_shared<WaitingFor<decltype(completion)>>(std::move(completion));
        waiting_ = waiting;
        request.abandonment = waiting;
        // `this` lives while the answer is awaited; once abandoned, the answer is dropped first.
        state_->handler(std::move(request), [this, waiting](Response response) {
          if (waiting->done) return;
          Answered(*waiting);
          if (!waiting->in_handler) return waiting->Finish(std::move(response));
          auto executor = net::asio::get_associated_executor(waiting->completion());
          net::asio::post(executor, [waiting, response = std::move(response)]() mutable {
            waiting->Finish(std::move(response));
          });
        });
        waiting->in_handler = false;
        if (!waiting->done) Park();
      },
      net::asio::use_awaitable);
}

void Connection::Answered(Waiting& waiting) {
  waiting.done = true;
  Unpark();
  if (watching_) {
    boost::system::error_code ignored;
    socket_.cancel(ignored);  // only the watch's read is pending
  }
}

void Connection::Park() {
  parked_since_ = CoarseNow();
  parked_at_ = state_->parked.insert(state_->parked.end(), weak_from_this());
}

// Once a kWatchAfter, for as long as the server runs: the parked connections that waited that
// long are watched. (A sweep started per parked request would cost every publish a timer.)
net::Awaitable<void> Sweep(std::shared_ptr<Server::State> state) {
  while (state->acceptor->is_open()) {
    state->sweep.expires_after(kWatchAfter);
    co_await state->sweep.async_wait(net::kUseTuple);
    Clock::time_point before = CoarseNow() - kWatchAfter;
    // Copied: a watch that finds its client gone unparks it at once.
    std::vector<std::shared_ptr<Connection>> parked;
    for (const auto& weak : state->parked) {
      if (auto connection = weak.lock()) parked.push_back(std::move(connection));
    }
    for (const auto& connection : parked) connection->WatchIfParkedSince(before);
  }
}

void Connection::Unpark() {
  if (!parked_at_) return;
  state_->parked.erase(*parked_at_);
  parked_at_.reset();
}

void Connection::WatchIfParkedSince(Clock::time_point before) {
  if (watching_ || !parked_at_ || parked_since_ > before) return;
  watching_ = true;
  net::asio::co_spawn(socket_.get_executor(), WatchClient(), net::asio::detached);
}

// Reads while the handler has the request: bytes are kept for the next request (pipelining);
// EOF or an error means the client left, and the request is abandoned.
net::Awaitable<void> Connection::WatchClient() {
  auto self = shared_from_this();
  for (;;) {
    auto [ec, n] = co_await socket_.async_read_some(net::asio::buffer(scratch_), net::kUseTuple);
    buffer_.append(scratch_.data(), n);
    auto waiting = waiting_.lock();
    if (!waiting || waiting->done) break;  // answered: the read was cancelled
    if (ec || n == 0) {
      waiting->done = true;
      Unpark();
      waiting->Abandon();
      net::asio::post(socket_.get_executor(), [waiting] { waiting->Finish(std::nullopt); });
      break;
    }
    if (buffer_.size() > kLimits.max_head + kReadChunk) break;  // enough read ahead
  }
  watching_ = false;
  watch_ended_.cancel();
}

}  // namespace gantry::http::server_internal
