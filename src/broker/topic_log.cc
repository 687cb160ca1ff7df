#include "broker/topic_log.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/status.h"

namespace gantry::broker {

namespace {

std::filesystem::path SegmentPath(const std::filesystem::path& dir, uint64_t first_offset) {
  return dir / fmt::format("{:020}.log", first_offset);
}

}  // namespace

TopicLog::~TopicLog() = default;

absl::StatusOr<std::unique_ptr<TopicLog>> TopicLog::Open(const std::filesystem::path& dir,
                                                         const RetentionOptions& options) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::InternalError(fmt::format("cannot create {}: {}", dir.string(), error.message()));
  }
  std::unique_ptr<TopicLog> log(new TopicLog(dir, options));
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".log") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (size_t i = 0; i < files.size(); ++i) {
    Segment segment;
    segment.path = files[i];
    segment.first_offset = std::stoull(files[i].stem().string());
    auto wal = store::Wal::Open(files[i], [&](std::string_view record) -> absl::Status {
      GANTRY_ASSIGN_OR_RETURN(Message message, DecodeMessage(record));
      segment.newest_ms = std::max(segment.newest_ms, message.time_ms);
      log->bytes_ += message.payload.size();
      log->next_offset_ = message.offset + 1;
      log->messages_.push_back(std::move(message));
      return absl::OkStatus();
    });
    if (!wal.ok()) return wal.status();
    segment.bytes = (*wal)->size();
    if (log->messages_.empty() || log->next_offset_ < segment.first_offset) {
      log->next_offset_ = std::max(log->next_offset_, segment.first_offset);
    }
    log->segments_.push_back(segment);
    if (i + 1 == files.size()) log->active_ = std::move(*wal);
  }
  log->durable_next_ = log->next_offset_;
  return log;
}

absl::Status TopicLog::Roll(uint64_t first_offset) {
  Segment segment;
  segment.first_offset = first_offset;
  segment.path = SegmentPath(dir_, first_offset);
  GANTRY_ASSIGN_OR_RETURN(
      active_, store::Wal::Open(segment.path, [](std::string_view) { return absl::OkStatus(); }));
  segments_.push_back(segment);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> TopicLog::Append(const std::vector<std::string>& records, int64_t now_ms) {
  if (!active_ || segments_.back().bytes >= options_.segment_bytes) {
    GANTRY_RETURN_IF_ERROR(Roll(durable_next_));
  }
  GANTRY_RETURN_IF_ERROR(active_->Append(records));
  Segment& active = segments_.back();
  active.bytes = active_->size();
  active.newest_ms = now_ms;
  durable_next_ += records.size();
  return Retain(now_ms);
}

// Drops the oldest segments (never the active one) while the topic is over its size or they
// are past the age limit; returns the first offset left.
uint64_t TopicLog::Retain(int64_t now_ms) {
  auto total = [this] {
    uint64_t sum = 0;
    for (const Segment& s : segments_) sum += s.bytes;
    return sum;
  };
  int64_t oldest_allowed = now_ms - options_.max_age.count();
  while (segments_.size() > 1 &&
         (total() > options_.max_bytes || segments_.front().newest_ms < oldest_allowed)) {
    std::error_code ignored;
    std::filesystem::remove(segments_.front().path, ignored);
    segments_.erase(segments_.begin());
  }
  return segments_.front().first_offset;
}

void TopicLog::Commit(std::vector<Message> messages, uint64_t retained_from) {
  for (Message& message : messages) {
    bytes_ += message.payload.size();
    next_offset_ = message.offset + 1;
    messages_.push_back(std::move(message));
  }
  while (!messages_.empty() && messages_.front().offset < retained_from) {
    bytes_ -= messages_.front().payload.size();
    messages_.pop_front();
  }
}

}  // namespace gantry::broker
