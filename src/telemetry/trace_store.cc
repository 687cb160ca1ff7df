#include "telemetry/trace_store.h"

#include <algorithm>
#include <cstring>
#include <set>

namespace gantry::telemetry {

void TraceStore::Add(std::vector<SpanRecord> spans, int64_t now_us) {
  for (SpanRecord& span : spans) {
    if (pending_spans_ >= options_.max_pending_spans) {
      ++dropped_spans_;
      continue;
    }
    Pending& trace = pending_[span.trace_id];
    if (trace.spans.size() >= options_.max_spans_per_trace) {
      ++dropped_spans_;
      continue;
    }
    trace.spans.push_back(span);
    trace.last_us = now_us;
    ++pending_spans_;
  }
}

bool TraceStore::Keep(const TraceId& id, const std::vector<SpanRecord>& spans) const {
  for (const SpanRecord& span : spans) {
    if (span.status == 0 || span.status >= 500) return true;
    if (span.duration_us >= static_cast<uint64_t>(options_.slow.count())) return true;
  }
  // The trace id's last 8 bytes are random: their value decides, the same way everywhere.
  uint64_t low = 0;
  std::memcpy(&low, id.data() + 8, 8);
  return static_cast<double>(low) < options_.sample_rate * 18446744073709551616.0;
}

std::vector<SpanRecord> TraceStore::Settle(int64_t now_us) {
  std::vector<SpanRecord> exported;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (now_us - it->second.last_us < options_.settle.count()) {
      ++it;
      continue;
    }
    pending_spans_ -= it->second.spans.size();
    if (Keep(it->first, it->second.spans)) {
      ++kept_;
      exported.insert(exported.end(), it->second.spans.begin(), it->second.spans.end());
      kept_traces_.emplace_back(it->first, std::move(it->second.spans));
      while (kept_traces_.size() > options_.max_traces) kept_traces_.pop_front();
    } else {
      ++sampled_out_;
    }
    it = pending_.erase(it);
  }
  return exported;
}

TraceSummary TraceStore::Summarize(const std::vector<SpanRecord>& spans) {
  TraceSummary s;
  if (spans.empty()) return s;
  s.trace_id = spans.front().trace_id;
  const SpanRecord* root = &spans.front();
  int64_t end = 0;
  std::set<std::string> services;
  s.start_unix_us = spans.front().start_unix_us;
  for (const SpanRecord& span : spans) {
    if (span.start_unix_us < root->start_unix_us) root = &span;
    s.start_unix_us = std::min(s.start_unix_us, span.start_unix_us);
    end = std::max(end, span.start_unix_us + static_cast<int64_t>(span.duration_us));
    s.error = s.error || span.status == 0 || span.status >= 500;
    services.insert(std::string(span.service.view()));
  }
  s.root_service = std::string(root->service.view());
  s.root_target = std::string(root->target.view());
  s.duration_us = end - s.start_unix_us;
  s.spans = spans.size();
  s.services.assign(services.begin(), services.end());
  return s;
}

std::vector<TraceSummary> TraceStore::List(const std::string& service, size_t limit) const {
  std::vector<TraceSummary> out;
  for (auto it = kept_traces_.rbegin(); it != kept_traces_.rend() && out.size() < limit; ++it) {
    const auto& spans = it->second;
    if (!service.empty() && std::none_of(spans.begin(), spans.end(), [&](const SpanRecord& s) {
          return s.service.view() == service;
        })) {
      continue;
    }
    out.push_back(Summarize(spans));
  }
  return out;
}

std::optional<std::vector<SpanRecord>> TraceStore::Get(const TraceId& id) const {
  for (auto it = kept_traces_.rbegin(); it != kept_traces_.rend(); ++it) {
    if (it->first == id) return it->second;
  }
  return std::nullopt;
}

}  // namespace gantry::telemetry
