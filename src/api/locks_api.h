// /api/v1/locks/{name}: distributed locks with fencing tokens (coord::LockService).
//   POST   {"ttl": "10s", "wait": "5s"} -> {"token": N, "lease": "ID"}; 408 when the wait runs out
//   DELETE ?token=N                      -> {"released": true}; 404 when nothing has that token
//   GET                                  -> {"name", "holder": {"token", "lease"} | null,
//   "waiters"}
// Control-plane thread only.
#pragma once

#include <string_view>

#include "coord/locks.h"
#include "http/message.h"
#include "http/server.h"

namespace gantry::api {

class LocksApi {
 public:
  explicit LocksApi(coord::LockService& locks) : locks_(locks) {}
  // `rest` is the path after /api/v1/locks (or /api/v1/elections).
  void Handle(const http::Request& request, std::string_view rest, http::Respond respond);

 private:
  coord::LockService& locks_;
};

}  // namespace gantry::api
