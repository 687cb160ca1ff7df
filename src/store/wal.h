// An append-only write-ahead log of opaque, non-empty records (zeros that a crash can leave
// past the end would otherwise read as empty ones). Each record is framed as
// [u32 length][u32 CRC-32 of the payload][payload] (little-endian). Append() returns only once
// the records are on disk (fdatasync). The file grows in zero-filled chunks written ahead
// (kPreallocateBytes), so an append's fdatasync has no size change to record; replay stops at
// the zeros. Open() replays every intact record in order; a torn or
// corrupt tail, which a crash in the middle of an append leaves, is cut off.
// Not thread-safe: one owner (the store's sync thread) calls it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace gantry::store {

class Wal {
 public:
  static constexpr uint64_t kPreallocateBytes = uint64_t{4} << 20;
  using Replay = std::function<absl::Status(std::string_view record)>;

  // Opens (or creates) the log at `path`, calling `replay` for each intact record. A replay
  // error aborts the open.
  static absl::StatusOr<std::unique_ptr<Wal>> Open(const std::filesystem::path& path,
                                                   const Replay& replay);
  ~Wal();

  // Appends the records and makes them durable. On failure (ENOSPC, EIO...) the log is cut back
  // to where it was, so a later append starts clean; ResourceExhausted means the disk is full.
  absl::Status Append(const std::vector<std::string>& records);

  uint64_t size() const { return size_; }
  uint64_t dropped_tail_bytes() const { return dropped_tail_; }  // torn bytes cut off by Open

 private:
  Wal(int fd, uint64_t size, uint64_t dropped)
      : fd_(fd), size_(size), allocated_(size), dropped_tail_(dropped) {}
  absl::Status Preallocate(uint64_t needed);

  int fd_;
  uint64_t size_;       // the records' end, where the next append goes
  uint64_t allocated_;  // the file's length: records, then zeros written ahead
  uint64_t dropped_tail_;
  bool broken_ = false;  // a failed append left bytes that could not be cut back
};

// Framing, shared with the snapshot file and the broker's segment reads: each record is a
// 4-byte length and a 4-byte CRC-32 (little-endian), then the record.
inline constexpr size_t kFrameHeaderBytes = 8;
std::string FrameRecord(std::string_view payload);
std::string FrameHeader(std::string_view payload);  // the 8 bytes FrameRecord puts first
// Calls `replay` for each intact record at the start of `data`; `*intact` is where the intact
// part ends (a torn or corrupt record ends it). A replay error is returned at once.
absl::Status ReplayFramed(std::string_view data, const Wal::Replay& replay, uint64_t* intact);

}  // namespace gantry::store
