// One HTTP/2 connection from a worker to an endpoint (a `protocol: grpc` replica), shared by
// the worker's calls to that endpoint: each call is a stream, so every call is balanced on its
// own while connections stay few. A second connection opens when the replica's
// SETTINGS_MAX_CONCURRENT_STREAMS is reached. The connection closes after a minute without
// streams, once its endpoint has left and its last stream ended, or on any error (its calls
// are told, and retry or fail).
// Worker thread only; deleted through the loop.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <unordered_map>

#include "http/h2_session.h"
#include "net/event_loop.h"
#include "proxy/cluster_runtime.h"
#include "proxy/endpoint_state.h"

namespace gantry::proxy {

class H2Call;
class Worker;
struct Endpoint;

class H2Backend final : public net::IoHandler,
                        public net::Deferred,
                        public http::h2::SessionHandler {
 public:
  // Starts connecting to `endpoint`; null (errno set) when no socket could be made. Holds one
  // of the service's max_connections while open (acquired by the caller).
  static H2Backend* Dial(Worker& worker, const Endpoint& endpoint,
                         std::shared_ptr<ClusterRuntime> cluster);
  ~H2Backend() override;

  // Opens a stream for `call` with its request head; 0 when this connection cannot now.
  int32_t Open(H2Call& call, std::span<const http::h2::Field> fields, bool end_stream);
  void SendData(int32_t stream, std::string_view data);
  void SendEnd(int32_t stream);
  void Consume(int32_t stream, size_t bytes);
  // The call is done with its stream: reset when still open, forgotten either way.
  void Forget(int32_t stream);

  bool CanOpen() const;  // not failing or draining, and a stream fits
  size_t calls() const { return calls_.size(); }
  EndpointRuntime* runtime() const { return runtime_.get(); }
  // No new streams; closes once the last one ends (the endpoint left the snapshot).
  void Drain();
  // Closes now: the calls still on it see their streams reset.
  void Close();

  void OnIo(uint32_t events) override;
  void RunDeferred() override { FlushNow(); }

  // The endpoint's per-worker list (EndpointWorkerState::h2).
  H2Backend* pool_prev = nullptr;
  H2Backend* pool_next = nullptr;
  int64_t idle_since_ms = 0;  // when its last stream ended

 private:
  H2Backend(Worker& worker, int fd, std::shared_ptr<EndpointRuntime> runtime,
            std::shared_ptr<ClusterRuntime> cluster);

  // http::h2::SessionHandler
  void OnHeaders(int32_t stream, std::span<const http::h2::Field> fields, bool end_stream) override;
  void OnData(int32_t stream, std::string_view data) override;
  void OnEndStream(int32_t stream) override;
  void OnStreamClose(int32_t stream, uint32_t error_code) override;
  void OnDataSent(int32_t stream, size_t bytes) override;

  H2Call* CallOf(int32_t stream);
  void ReadSocket();
  // Writes the session's output after this batch of events (one write for all of it), or now.
  void Flush();
  void FlushNow();
  void AfterStreamEnded();

  Worker& worker_;
  int fd_;
  std::shared_ptr<EndpointRuntime> runtime_;  // outlives the snapshots while connected
  std::shared_ptr<ClusterRuntime> cluster_;
  std::unique_ptr<http::h2::Session> session_;
  std::unordered_map<int32_t, H2Call*> calls_;
  std::string out_;
  size_t out_sent_ = 0;
  bool connected_ = false;
  bool draining_ = false;
  bool closed_ = false;
  bool peer_closed_ = false;  // the replica sent FIN (EPOLLRDHUP): read on to the EOF
};

}  // namespace gantry::proxy
