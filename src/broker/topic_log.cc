#include "broker/topic_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "core/status.h"

namespace gantry::broker {

namespace {

std::filesystem::path SegmentPath(const std::filesystem::path& dir, uint64_t first_offset) {
  return dir / fmt::format("{:020}.log", first_offset);
}

int OpenForReading(const std::filesystem::path& path) {
  return ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
}

// One pread covers at most this much (and at least one record).
constexpr uint64_t kReadBytes = uint64_t{1} << 20;

}  // namespace

TopicLog::~TopicLog() {
  for (Indexed& segment : index_) {
    if (segment.fd >= 0) ::close(segment.fd);
  }
}

absl::StatusOr<std::unique_ptr<TopicLog>> TopicLog::Open(
    const std::filesystem::path& dir, const RetentionOptions& options,
    const std::function<void(const Message&)>& visit) {
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
    Indexed indexed;
    indexed.first_offset = segment.first_offset;
    uint64_t position = 0;
    auto wal = store::Wal::Open(files[i], [&](std::string_view record) -> absl::Status {
      GANTRY_ASSIGN_OR_RETURN(Message message, DecodeMessage(record));
      if (message.offset != segment.first_offset + indexed.positions.size()) {
        return absl::DataLossError(
            fmt::format("{}: offset {} out of sequence", files[i].string(), message.offset));
      }
      indexed.positions.push_back(static_cast<uint32_t>(position));
      position += store::kFrameHeaderBytes + record.size();
      segment.newest_ms = std::max(segment.newest_ms, message.time_ms);
      log->next_offset_ = message.offset + 1;
      if (visit) visit(message);
      log->Cache(std::move(message));
      return absl::OkStatus();
    });
    if (!wal.ok()) return wal.status();
    segment.bytes = (*wal)->size();
    indexed.end = position;
    indexed.fd = OpenForReading(files[i]);
    if (indexed.fd < 0) {
      return absl::InternalError(
          fmt::format("cannot open {}: {}", files[i].string(), std::strerror(errno)));
    }
    log->next_offset_ = std::max(log->next_offset_, segment.first_offset);
    log->segments_.push_back(segment);
    log->index_.push_back(std::move(indexed));
    if (i + 1 == files.size()) log->active_ = std::move(*wal);
  }
  log->durable_next_ = log->next_offset_;
  log->first_offset_ = log->index_.empty() ? log->next_offset_ : log->index_.front().first_offset;
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

absl::StatusOr<TopicLog::Appended> TopicLog::Append(const std::vector<std::string>& records,
                                                    int64_t now_ms) {
  if (!active_ || segments_.back().bytes >= options_.segment_bytes) {
    GANTRY_RETURN_IF_ERROR(Roll(durable_next_));
  }
  Appended appended;
  appended.segment_first_offset = segments_.back().first_offset;
  uint64_t position = active_->size();
  for (const std::string& record : records) {
    appended.positions.push_back(static_cast<uint32_t>(position));
    position += store::kFrameHeaderBytes + record.size();
  }
  GANTRY_RETURN_IF_ERROR(active_->Append(records));
  Segment& active = segments_.back();
  active.bytes = active_->size();
  active.newest_ms = now_ms;
  appended.end = active.bytes;
  durable_next_ += records.size();
  appended.retained_from = Retain(now_ms);
  return appended;
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

// What a cached message holds in memory: the object, its strings and its headers. Payloads are
// often tiny, and counting only them let the 4 MiB cache hold 200,000 messages of about 400
// bytes each (the soak's agent grew by 70 MiB).
uint64_t TopicLog::MemoryOf(const Message& message) {
  uint64_t bytes = sizeof(Message) + message.id.capacity() + message.key.capacity() +
                   message.payload.capacity() +
                   message.headers.capacity() * sizeof(decltype(message.headers)::value_type);
  for (const auto& [name, value] : message.headers) bytes += name.capacity() + value.capacity();
  return bytes;
}

void TopicLog::Cache(Message message) {
  tail_bytes_ += MemoryOf(message);
  tail_.push_back(std::move(message));
  while (tail_.size() > 1 && tail_bytes_ > options_.tail_cache_bytes) DropOldestCached();
}

void TopicLog::DropOldestCached() {
  tail_bytes_ -= MemoryOf(tail_.front());
  tail_.pop_front();
}

void TopicLog::Commit(std::vector<Message> messages, const Appended& appended) {
  if (index_.empty() || index_.back().first_offset != appended.segment_first_offset) {
    Indexed fresh;
    fresh.first_offset = appended.segment_first_offset;
    // Opened here, while the segment is the active one (retention never drops that).
    fresh.fd = OpenForReading(SegmentPath(dir_, appended.segment_first_offset));
    index_.push_back(std::move(fresh));
  }
  Indexed& segment = index_.back();
  segment.positions.insert(segment.positions.end(), appended.positions.begin(),
                           appended.positions.end());
  segment.end = appended.end;
  for (Message& message : messages) {
    next_offset_ = message.offset + 1;
    Cache(std::move(message));
  }
  while (index_.size() > 1 && index_[1].first_offset <= appended.retained_from) {
    if (index_.front().fd >= 0) ::close(index_.front().fd);
    index_.pop_front();
  }
  first_offset_ = std::max(first_offset_, index_.front().first_offset);
  while (!tail_.empty() && tail_.front().offset < first_offset_) DropOldestCached();
}

uint64_t TopicLog::bytes() const {
  uint64_t sum = 0;
  for (const Indexed& segment : index_) sum += segment.end;
  return sum;
}

absl::StatusOr<std::vector<Message>> TopicLog::Read(uint64_t from, size_t limit) const {
  std::vector<Message> out;
  uint64_t offset = std::max(from, first_offset_);
  // Older than the cached tail: from the segment files.
  while (out.size() < limit && offset < next_offset_ &&
         (tail_.empty() || offset < tail_.front().offset)) {
    auto it = std::upper_bound(index_.begin(), index_.end(), offset,
                               [](uint64_t o, const Indexed& s) { return o < s.first_offset; });
    if (it == index_.begin()) break;
    const Indexed& segment = *std::prev(it);
    size_t first = static_cast<size_t>(offset - segment.first_offset);
    if (first >= segment.positions.size()) break;  // an empty segment: nothing more there
    if (segment.fd < 0) return absl::DataLossError("a segment of the topic cannot be read");
    // A run of records within one pread.
    size_t last = first + 1;
    uint64_t start = segment.positions[first];
    auto end_of = [&segment](size_t i) {
      return i < segment.positions.size() ? uint64_t{segment.positions[i]} : segment.end;
    };
    while (last < segment.positions.size() && out.size() + (last - first) < limit &&
           end_of(last + 1) - start <= kReadBytes) {
      ++last;
    }
    std::string chunk(end_of(last) - start, '\0');
    ssize_t n = ::pread(segment.fd, chunk.data(), chunk.size(), static_cast<off_t>(start));
    if (n != static_cast<ssize_t>(chunk.size())) {
      return absl::DataLossError(
          fmt::format("a short read of the topic's segment {}", segment.first_offset));
    }
    uint64_t intact = 0;
    absl::Status decoded = store::ReplayFramed(
        chunk,
        [&out](std::string_view record) -> absl::Status {
          GANTRY_ASSIGN_OR_RETURN(Message message, DecodeMessage(record));
          out.push_back(std::move(message));
          return absl::OkStatus();
        },
        &intact);
    if (!decoded.ok()) return decoded;
    if (intact != chunk.size() || out.back().offset != offset + (last - first) - 1) {
      return absl::DataLossError(
          fmt::format("the topic's segment {} does not match its index", segment.first_offset));
    }
    offset += last - first;
  }
  // The rest from the cached tail.
  if (!tail_.empty() && offset >= tail_.front().offset) {
    for (size_t i = static_cast<size_t>(offset - tail_.front().offset);
         i < tail_.size() && out.size() < limit; ++i) {
      out.push_back(tail_[i]);
    }
  }
  return out;
}

}  // namespace gantry::broker
