// /api/v1/kv and /api/v1/leases: the store's keys and leases over HTTP.
//
//   GET    /kv/{key}                 raw value; X-Gantry-Mod-Revision, X-Gantry-Index; 404 if
//   absent GET    /kv/{prefix}?prefix=true  [{"key", "value" (base64), "create_revision", ...}] GET
//   ...&index=N&wait=30s      blocks until something in range changes after revision N GET
//   /kv/{key}?watch=REV       long-polled watch: the events from REV on (waits for one) PUT
//   /kv/{key}?lease=ID&cas=REV   raw body -> {"revision"}; a failed cas is 409 DELETE
//   /kv/{key}?prefix=true&cas=REV -> {"deleted", "revision"} POST   /leases {"ttl": "10s"} ->
//   {"id", "ttl"};  PUT /leases/{id}/keepalive;  DELETE /leases/{id}
#pragma once

#include <set>
#include <string_view>

#include "api/blocking.h"
#include "http/server.h"
#include "store/store.h"

namespace gantry::api {

class KvApi {
 public:
  KvApi(boost::asio::io_context& io, store::Store& store);
  ~KvApi();

  // `key` is the path after /api/v1/kv/, still percent-encoded.
  void HandleKv(const http::Request& request, std::string_view key, http::Respond respond);
  // `rest` is the path after /api/v1/leases.
  void HandleLeases(const http::Request& request, std::string_view rest, http::Respond respond);

 private:
  void Read(const store::KeyRange& range, bool list, http::Respond respond);
  // `gone`: the request's Abandonment (a parked read is dropped if its client leaves).
  void ReadWhenChanged(const store::KeyRange& range, bool list, BlockingQuery blocking,
                       std::shared_ptr<http::Abandonment> gone, http::Respond respond);
  void ParkUntilChanged(const store::KeyRange& range, bool list, BlockingQuery blocking,
                        std::shared_ptr<http::Abandonment> gone, http::Respond respond);
  void WatchEvents(const store::KeyRange& range, store::Revision from, Duration wait,
                   std::shared_ptr<http::Abandonment> gone, http::Respond respond);
  void Put(const http::Request& request, std::string key, http::Respond respond);
  void Delete(const http::Request& request, store::KeyRange range, http::Respond respond);
  void GrantLease(const http::Request& request, http::Respond respond);
  void EndWatch(store::WatchId id);

  boost::asio::io_context& io_;
  store::Store& store_;
  ParkedRequests parked_;
  std::set<store::WatchId> watches_;  // of parked requests; cancelled if we go first
};

}  // namespace gantry::api
