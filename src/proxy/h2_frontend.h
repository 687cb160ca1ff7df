// The HTTP/2 side of a client connection that opened with the h2c preface (prior knowledge):
// the server session, and one H2Call per request stream. Its ClientConn keeps the socket and
// the timers; this turns bytes into calls and calls' answers into bytes.
// Worker thread only. Owned by its ClientConn, deleted through the loop.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>

#include "http/h2_session.h"
#include "net/event_loop.h"
#include "proxy/worker.h"

namespace gantry::proxy {

class ClientConn;
class H2Call;

inline constexpr std::string_view kH2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

class H2Frontend final : public net::LoopOwned,
                         public net::Deferred,
                         public http::h2::SessionHandler {
 public:
  H2Frontend(Worker& worker, ClientConn& connection);
  ~H2Frontend() override;

  // Bytes from the client. False: the connection is finished (a GOAWAY may be queued).
  bool Receive(std::string_view bytes);
  // Hands the session's output to the connection after this batch of events (one write for
  // everything the batch produced), or now.
  void Flush() { worker_.loop().Defer(this); }
  void FlushNow();
  void RunDeferred() override;
  // The connection closed: every call ends, nothing more is sent.
  void Detach();
  // GOAWAY: no new streams (the connection idled, or the worker stops).
  void Shutdown();
  bool idle() const { return calls_.empty(); }
  bool alive() const { return !detached_ && session_->Alive(); }

  // --- for calls: each flushes ---
  void SubmitResponse(int32_t stream, std::span<const http::h2::Field> fields, bool end_stream);
  void SendData(int32_t stream, std::string_view data);
  void SendEnd(int32_t stream, std::span<const http::h2::Field> trailers = {});
  void Reset(int32_t stream, uint32_t error_code);
  void Consume(int32_t stream, size_t bytes);
  size_t Queued(int32_t stream) const { return session_->Queued(stream); }
  ListenerKind kind() const;
  const std::string& peer_ip() const;

 private:
  // http::h2::SessionHandler
  void OnHeaders(int32_t stream, std::span<const http::h2::Field> fields, bool end_stream) override;
  void OnData(int32_t stream, std::string_view data) override;
  void OnEndStream(int32_t stream) override;
  void OnStreamClose(int32_t stream, uint32_t error_code) override;
  void OnDataSent(int32_t stream, size_t bytes) override;

  void StartCall(int32_t stream, std::span<const http::h2::Field> fields, bool end_stream);
  H2Call* CallOf(int32_t stream);

  Worker& worker_;
  ClientConn& connection_;
  std::unique_ptr<http::h2::Session> session_;
  std::unordered_map<int32_t, std::unique_ptr<H2Call>> calls_;
  std::string scratch_;
  bool detached_ = false;
};

}  // namespace gantry::proxy
