// HTTP/2 framing, HPACK and stream states for one connection, server or client side, over
// nghttp2 (only h2_session.cc sees nghttp2.h). Bytes in, events out; frames queued, bytes out:
// the caller owns the socket and the event loop.
// Flow control is manual: DATA received widens the peer's windows only once the caller says it
// passed the bytes on (Consume), so a slow reader on the far side of a proxy holds the sender
// back instead of filling our memory. Flood defences (rapid reset, CONTINUATION, SETTINGS and
// PING floods, HPACK bombs, too many streams) come from Limits; a connection that trips one
// gets GOAWAY and Receive fails.
// Not thread-safe: one thread drives a session.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace gantry::http::h2 {

struct Field {
  std::string_view name;
  std::string_view value;
};

// RFC 9113 7 error codes used here.
enum ErrorCode : uint32_t {
  kNoError = 0x0,
  kProtocolError = 0x1,
  kInternalError = 0x2,
  kRefusedStream = 0x7,
  kCancel = 0x8,
  kEnhanceYourCalm = 0xb,
};

struct Limits {
  uint32_t max_concurrent_streams = 128;  // streams the peer may have open at once
  uint32_t stream_window = 256 * 1024;    // per stream: bytes received, not yet consumed
  uint32_t connection_window = 1024 * 1024;
  uint32_t max_header_list = 64 * 1024;  // one header block, decoded (HPACK bombs)
  size_t max_queued_control = 1000;      // SETTINGS/PING acks and resets not yet sent
  size_t max_settings_entries = 32;      // in one SETTINGS frame
  size_t max_continuations = 8;          // CONTINUATION frames after one HEADERS
  uint64_t reset_burst = 200;            // streams the peer resets: a bucket of this size ...
  uint64_t reset_rate = 50;              // ... refilled this many per second (rapid reset)
  uint32_t max_oversized_headers = 16;   // header blocks over the limit before GOAWAY
};

class SessionHandler {
 public:
  virtual ~SessionHandler() = default;
  // A complete header block: a request (server side), a response (client side, 1xx too) or
  // trailers. `end_stream`: the peer sends nothing more on this stream.
  virtual void OnHeaders(int32_t stream, std::span<const Field> fields, bool end_stream) = 0;
  virtual void OnData(int32_t stream, std::string_view data) = 0;
  // The peer ended its side with DATA (an end on HEADERS is told by OnHeaders).
  virtual void OnEndStream(int32_t stream) = 0;
  // The stream is gone: both sides ended (kNoError), or it was reset either way.
  virtual void OnStreamClose(int32_t stream, uint32_t error_code) = 0;
  // `bytes` given to SendData on `stream` left its queue as frames (the peer's windows allowed).
  virtual void OnDataSent(int32_t /*stream*/, size_t /*bytes*/) {}
};

class Session {
 public:
  static std::unique_ptr<Session> Server(SessionHandler& handler, const Limits& limits);
  static std::unique_ptr<Session> Client(SessionHandler& handler, const Limits& limits);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Feeds bytes read from the socket. An error ends the connection: a GOAWAY saying why is
  // queued; send the output, then close.
  absl::Status Receive(std::string_view bytes);
  // Appends the frames ready to go out; false when there were none.
  bool TakeOutput(std::string& out);
  // False once both sides are done (GOAWAY sent or received and no stream left).
  bool Alive() const;

  // Client: opens a stream. Its body follows with SendData and SendEnd unless `end_stream`.
  // Returns the stream id, or 0 when no stream can be opened (ids spent, GOAWAY received).
  int32_t SubmitRequest(std::span<const Field> fields, bool end_stream);
  // Server: the response head of `stream`; false if the stream is gone.
  bool SubmitResponse(int32_t stream, std::span<const Field> fields, bool end_stream);
  // Queues body bytes of a stream opened with end_stream false; framed as the windows allow.
  void SendData(int32_t stream, std::string_view data);
  // Ends our side of the stream after the queued bytes, with trailers if any.
  void SendEnd(int32_t stream, std::span<const Field> trailers = {});
  size_t Queued(int32_t stream) const;  // body bytes given to SendData and not yet framed
  void Reset(int32_t stream, uint32_t error_code);
  // `bytes` of DATA received on `stream` were passed on: the peer may send that much more.
  void Consume(int32_t stream, size_t bytes);
  // GOAWAY: streams already open finish, no new ones; with an error, the connection is done.
  void Shutdown(uint32_t error_code = kNoError);

  size_t OpenStreams() const;
  // Client: whether another stream fits under the server's SETTINGS_MAX_CONCURRENT_STREAMS.
  bool CanOpenStream() const;

  struct Impl;

 private:
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gantry::http::h2
