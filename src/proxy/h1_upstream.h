// One HTTP/2 call's try on an HTTP/1.1 replica (`protocol: http`): the request written as
// HTTP/1.1 on a pooled keep-alive connection (Content-Length when the client gave one or sent
// no body, chunked otherwise), and the response read back as HTTP/2 fields (lowercase, hop-by-
// hop fields dropped) and data. The connection goes back to the pool when both messages ended
// cleanly. Reading waits while the client has too much of the response queued.
// Worker thread only. Owned by its H2Call, which detaches it and deletes it through the loop
// (it may be on the stack, telling the call something, when the call lets go of it).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "http/h1_chunked.h"
#include "http/h1_head.h"
#include "http/h2_session.h"
#include "net/event_loop.h"
#include "proxy/upstream_conn.h"

namespace gantry::proxy {

class H2Call;
class Worker;
struct Cluster;
struct Endpoint;

class H1Upstream final : public net::LoopOwned, public UpstreamUser {
 public:
  H1Upstream(Worker& worker, H2Call& call, const Cluster& cluster, const Endpoint& endpoint);
  ~H1Upstream() override;

  // Sends the request head (HTTP/2 fields of the call) on a pooled or new connection. False
  // when none could be had: `overloaded` (max_connections) or a socket error.
  bool Start(std::span<const http::h2::Field> fields, bool end_stream, bool& overloaded);
  void SendData(std::string_view data);
  void SendEnd();
  // The client took `bytes` of the response: reading may go on.
  void Consume(size_t bytes);
  // The call is done with this try: nothing more is told to it.
  void Detach() { detached_ = true; }

  void OnUpstreamIo(uint32_t events) override;

 private:
  void Write();
  void Read();
  bool ProcessHead();
  void ProcessBody();
  void DeliverData(std::string_view data);
  void Finish();
  void ReleaseConnection();
  void Fail(bool unprocessed);

  Worker& worker_;
  H2Call& call_;
  const Cluster& cluster_;
  const Endpoint& endpoint_;
  UpstreamConn* connection_ = nullptr;
  bool detached_ = false;
  bool reused_ = false;
  bool connected_ = false;
  bool chunked_request_ = false;
  bool request_done_ = false;
  bool head_done_ = false;
  bool response_done_ = false;
  bool paused_ = false;
  bool upstream_keep_alive_ = true;
  http::h1::Method method_ = http::h1::Method::kGet;
  std::string out_;
  size_t out_sent_ = 0;
  size_t body_in_out_ = 0;  // request body bytes in out_ not yet credited to the call
  size_t head_scanned_ = 0;
  http::h1::Framing framing_ = http::h1::Framing::kNone;
  uint64_t body_remaining_ = 0;
  http::h1::ChunkedDecoder chunked_;
  size_t delivered_ = 0;  // response body bytes given to the call, not yet taken by the client
};

}  // namespace gantry::proxy
