// Replica output through the API (GET /api/v1/logs/{instance}): the tail of a replica's log,
// or what was written after an offset, so that `gantry logs -f` can follow by polling.
// Control-plane thread; reads files of the state folder only (instance ids name them).
#pragma once

#include <filesystem>
#include <string>

#include "http/message.h"
#include "orchestrator/supervisor.h"

namespace gantry::api {

class LogsApi {
 public:
  LogsApi(std::filesystem::path logs_dir, const orchestrator::Supervisor& supervisor)
      : logs_dir_(std::move(logs_dir)), supervisor_(supervisor) {}

  // `?tail=N` (default 100; 0: everything kept) or `?offset=BYTES` (what came after). The
  // answer is text/plain with X-Gantry-Offset: where the next read starts.
  http::Response Get(const std::string& instance, std::string_view query) const;

  static constexpr size_t kMaxAnswerBytes = size_t{4} * 1024 * 1024;

 private:
  std::filesystem::path logs_dir_;
  const orchestrator::Supervisor& supervisor_;
};

}  // namespace gantry::api
