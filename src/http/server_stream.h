// The server's side of a streamed answer (http::BodyStream): what the producer writes is queued
// here until the connection's writer takes it; the writer sleeps on a timer that every Write,
// End and Close wakes. Server thread only.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "http/message.h"
#include "net/asio.h"

namespace gantry::http {

class ServerStream : public BodyStream {
 public:
  // More than this waiting for a client that does not read: it is dropped.
  static constexpr size_t kMaxQueuedBytes = size_t{4} * 1024 * 1024;

  explicit ServerStream(const net::asio::any_io_executor& executor);

  bool Write(std::string_view data) override;
  void End() override;
  bool open() const override { return open_; }
  void OnClose(std::function<void()> callback) override;
  void OnWritable(std::function<void()> callback) override;

  // The connection's side.
  std::string TakeQueued();
  bool ended() const { return ended_; }
  void Close();    // the client went away or the writer stopped: runs the close callbacks
  void Drained();  // the writer sent all it took and nothing more is queued
  net::Awaitable<void> WaitForData();

 private:
  net::asio::steady_timer wake_;
  std::string queued_;
  bool open_ = true;
  bool ended_ = false;
  std::vector<std::function<void()>> on_close_;
  std::vector<std::function<void()>> on_writable_;
};

}  // namespace gantry::http
