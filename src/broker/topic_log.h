// One topic's durable log: segment files `<dir>/<first offset, 20 digits>.log`, each a
// store::Wal of encoded messages (CRC-framed, fdatasync before an append returns, a torn tail cut
// off on open). The newest segment takes appends and is rolled past `segment_bytes`. Retention
// drops whole segments, oldest first, past `max_bytes` or once their newest message is older
// than `max_age`; the active segment always stays.
// Reads come from the files (the page cache, in practice) through an index of every record's
// position, 4 bytes a message; only the newest messages (up to `tail_cache_bytes` of memory,
// each message's object, strings and headers counted) are kept in memory, for subscribers that
// keep up.
// Threads: Append (and the retention it applies) runs on the broker's sync thread; Commit and
// the readers on the loop. The broker never runs two of one topic's Appends at once, nor an
// Append before the previous one's Commit; the two sides share nothing but what Append
// returns. The loop reads through descriptors of its own, so a segment that retention unlinks
// stays readable until Commit learns that it went.
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
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
  uint64_t tail_cache_bytes = uint64_t{4} << 20;  // memory held by the newest messages
};

class TopicLog {
 public:
  // `visit` (optional) sees every retained message once, oldest first (the broker rebuilds its
  // dedup window from it).
  static absl::StatusOr<std::unique_ptr<TopicLog>> Open(
      const std::filesystem::path& dir, const RetentionOptions& options,
      const std::function<void(const Message&)>& visit = {});
  ~TopicLog();

  // What a successful Append did, for Commit.
  struct Appended {
    uint64_t segment_first_offset = 0;  // the segment the records went to
    std::vector<uint32_t> positions;    // where in its file each record starts
    uint64_t end = 0;                   // where the last one ends
    uint64_t retained_from = 0;         // the first offset retention kept
  };

  // --- the sync thread ---
  // Makes `records` (encoded messages, offsets from next_durable_offset on) durable, then
  // applies retention.
  absl::StatusOr<Appended> Append(const std::vector<std::string>& records, int64_t now_ms);

  // --- the loop ---
  // The messages of a successful Append (in the order appended) become readable; those before
  // `appended.retained_from` go.
  void Commit(std::vector<Message> messages, const Appended& appended);
  // Up to `limit` messages from offset `from` on (from the oldest retained if `from` is older).
  absl::StatusOr<std::vector<Message>> Read(uint64_t from, size_t limit) const;
  uint64_t first_offset() const { return first_offset_; }
  uint64_t next_offset() const { return next_offset_; }  // the next durable message's
  size_t cached_messages() const { return tail_.size(); }
  uint64_t cached_bytes() const { return tail_bytes_; }  // memory the cached messages hold
  uint64_t bytes() const;                                // of the retained segments' files

 private:
  struct Segment {  // the sync thread's view
    uint64_t first_offset = 0;
    std::filesystem::path path;
    uint64_t bytes = 0;
    int64_t newest_ms = 0;
  };
  struct Indexed {  // the loop's view
    uint64_t first_offset = 0;
    int fd = -1;
    std::vector<uint32_t> positions;  // of each record, offsets first_offset on
    uint64_t end = 0;                 // where the last record ends
  };

  TopicLog(std::filesystem::path dir, RetentionOptions options)
      : dir_(std::move(dir)), options_(options) {}
  absl::Status Roll(uint64_t first_offset);
  uint64_t Retain(int64_t now_ms);
  absl::StatusOr<Indexed*> IndexFor(uint64_t first_offset);
  void Cache(Message message);

  std::filesystem::path dir_;
  RetentionOptions options_;
  // The sync thread's (after Open):
  std::vector<Segment> segments_;
  std::unique_ptr<store::Wal> active_;
  uint64_t durable_next_ = 0;
  // The loop's:
  std::deque<Indexed> index_;
  static uint64_t MemoryOf(const Message& message);
  void DropOldestCached();
  std::deque<Message> tail_;  // the newest messages
  uint64_t tail_bytes_ = 0;   // their MemoryOf
  uint64_t first_offset_ = 0;
  uint64_t next_offset_ = 0;
};

}  // namespace gantry::broker
