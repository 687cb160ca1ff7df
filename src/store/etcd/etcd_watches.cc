#include "store/etcd/etcd_watches.h"

#include <algorithm>

#include "core/log.h"

namespace gantry::store::etcd {

namespace {
constexpr Duration kFirstBackoff = std::chrono::milliseconds(50);
constexpr Duration kMaxBackoff = std::chrono::seconds(2);
}  // namespace

Watches::Watches(boost::asio::io_context& io, CallTracker& tracker, etcdserverpb::Watch::Stub& stub,
                 const Codec& codec)
    : tracker_(tracker), stub_(stub), codec_(codec), retry_timer_(io) {}

Watches::~Watches() {
  retry_timer_.cancel();
  if (stream_) stream_->Cancel();
}

WatchId Watches::Add(KeyRange range, Revision from, WatchCallback callback) {
  WatchId id = next_id_++;
  Entry& entry = entries_[id];
  entry.range = std::move(range);
  entry.next = from;
  entry.callback = std::move(callback);
  if (stream_) {
    Create(id, entry);
  } else {
    EnsureStream();
  }
  return id;
}

void Watches::Cancel(WatchId id) {
  if (entries_.erase(id) == 0) return;
  if (!stream_) return;
  etcdserverpb::WatchRequest request;
  request.mutable_cancel_request()->set_watch_id(id);
  stream_->Send(std::move(request));
}

void Watches::EnsureStream() {
  if (stream_ || retry_pending_ || entries_.empty()) return;
  stream_ = Stream::Start(
      tracker_,
      [this](
          ::grpc::ClientContext* context,
          ::grpc::ClientBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>* r) {
        stub_.async()->Watch(context, r);
      },
      {[this](etcdserverpb::WatchResponse response) { OnMessage(response); },
       [this](::grpc::Status status) { OnEnd(status); }});
  if (!stream_) return;  // shutting down
  for (const auto& [id, entry] : entries_) Create(id, entry);
}

void Watches::Create(WatchId id, const Entry& entry) {
  etcdserverpb::WatchRequest request;
  auto* create = request.mutable_create_request();
  codec_.SetRange(entry.range, create->mutable_key(), create->mutable_range_end());
  create->set_start_revision(entry.next);
  create->set_watch_id(id);
  stream_->Send(std::move(request));
}

void Watches::OnMessage(const etcdserverpb::WatchResponse& response) {
  auto it = entries_.find(response.watch_id());
  if (it == entries_.end()) return;  // cancelled meanwhile
  if (response.compact_revision() > 0) {
    return End(it->first,
               absl::OutOfRangeError(fmt::format("compacted: revision {} is gone (compacted at {})",
                                                 it->second.next, response.compact_revision())));
  }
  if (response.canceled()) {
    return End(it->first, absl::UnavailableError(fmt::format("etcd cancelled the watch: {}",
                                                             response.cancel_reason())));
  }
  backoff_ = Duration{};  // the stream works
  WatchId id = it->first;
  // A transaction's events share its revision: only those before this answer were seen.
  Revision seen_below = it->second.next;
  for (const auto& event : response.events()) {
    auto converted = codec_.FromEtcd(event);
    if (!converted.ok()) return End(id, converted.status());
    auto entry = entries_.find(id);
    if (entry == entries_.end()) return;                    // the callback cancelled it
    if (converted->kv.mod_revision < seen_below) continue;  // delivered before a reconnect
    entry->second.next = converted->kv.mod_revision + 1;
    WatchCallback callback = entry->second.callback;  // may cancel its own watch
    callback(*std::move(converted));
  }
}

void Watches::End(WatchId id, absl::Status status) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  WatchCallback callback = std::move(it->second.callback);
  entries_.erase(it);
  if (stream_) {
    etcdserverpb::WatchRequest request;
    request.mutable_cancel_request()->set_watch_id(id);
    stream_->Send(std::move(request));
  }
  callback(std::move(status));
}

void Watches::OnEnd(const ::grpc::Status& status) {
  stream_.reset();
  if (entries_.empty()) return;
  if (backoff_ == Duration{}) {  // once per outage, not per attempt
    GANTRY_LOG(kWarn, "etcd watch stream ended ({}); its {} watches resume once etcd answers",
               status.error_message(), entries_.size());
  }
  backoff_ = std::clamp(backoff_ * 2, kFirstBackoff, kMaxBackoff);
  retry_pending_ = true;
  retry_timer_.expires_after(backoff_);
  retry_timer_.async_wait([this](boost::system::error_code error) {
    if (error) return;
    retry_pending_ = false;
    EnsureStream();
  });
}

}  // namespace gantry::store::etcd
