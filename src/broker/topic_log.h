// One topic's durable log: segment files `<dir>/<first offset, 20 digits>.log`, each a
// store::Wal of encoded messages (CRC-framed, fdatasync before an append returns, a torn tail cut
// off on open). The newest segment takes appends and is rolled past `segment_bytes`. Retention
// drops whole segments, oldest first, past `max_bytes` or once their newest message is older
// than `max_age`; the active segment always stays. Retained messages are kept in memory too,
// for reads.
// Threads: Append (and the retention it applies) runs on the broker's sync thread; Commit and
// the readers on the loop. The broker never runs two of one topic's Appends at once, and the
// two sides share nothing but what Append returns.
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "broker/message.h"
#include "core/duration.h"
#include "store/wal.h"

namespace gantry::broker {

struct RetentionOptions {
  uint64_t segment_bytes = uint64_t{64} << 20;
  uint64_t max_bytes = uint64_t{256} << 20;  // per topic
  Duration max_age = std::chrono::hours(24 * 7);
};

class TopicLog {
 public:
  static absl::StatusOr<std::unique_ptr<TopicLog>> Open(const std::filesystem::path& dir,
                                                        const RetentionOptions& options);
  ~TopicLog();

  // --- the sync thread ---
  // Makes `records` (encoded messages, offsets from next_durable_offset on) durable, then
  // applies retention. Returns the first offset still retained.
  absl::StatusOr<uint64_t> Append(const std::vector<std::string>& records, int64_t now_ms);

  // --- the loop ---
  // The messages of a successful Append become readable; those before `retained_from` go.
  void Commit(std::vector<Message> messages, uint64_t retained_from);
  const std::deque<Message>& messages() const { return messages_; }
  uint64_t first_offset() const {
    return messages_.empty() ? next_offset_ : messages_.front().offset;
  }
  uint64_t next_offset() const { return next_offset_; }  // the next durable message's
  uint64_t bytes() const { return bytes_; }              // of the retained messages' payloads

 private:
  struct Segment {
    uint64_t first_offset = 0;
    std::filesystem::path path;
    uint64_t bytes = 0;
    int64_t newest_ms = 0;
  };

  TopicLog(std::filesystem::path dir, RetentionOptions options)
      : dir_(std::move(dir)), options_(options) {}
  absl::Status Roll(uint64_t first_offset);
  uint64_t Retain(int64_t now_ms);

  std::filesystem::path dir_;
  RetentionOptions options_;
  // The sync thread's (after Open):
  std::vector<Segment> segments_;
  std::unique_ptr<store::Wal> active_;
  uint64_t durable_next_ = 0;
  // The loop's:
  std::deque<Message> messages_;
  uint64_t next_offset_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace gantry::broker
