#include "telemetry/trace_store.h"

#include <algorithm>
#include <cstring>
#include <set>

namespace gantry::telemetry {

TraceStore::TraceStore(TraceStoreOptions options)
    : options_(options), pending_bits_(1024), sampler_(options.sample_rate) {
  slow_us_ = static_cast<uint64_t>(std::max<int64_t>(0, options_.slow.count()));
}

void TraceStore::Pend(const SpanRecord& span, int64_t now_us) {
  if (pending_spans_ >= options_.max_pending_spans) {
    ++dropped_spans_;
    return;
  }
  Pending& trace = pending_[span.trace_id];
  MarkPending(span.trace_id);
  if (trace.spans.size() >= options_.max_spans_per_trace) {
    ++dropped_spans_;
    return;
  }
  trace.spans.push_back(span);
  trace.last_us = now_us;
  ++pending_spans_;
}

void TraceStore::AddNotOrdinary(const SpanRecord& span, int64_t now_us, const Limbo& limbo) {
  if (Chosen(span.trace_id) || pending_.find(span.trace_id) != pending_.end()) {
    return Pend(span, now_us);
  }
  if (!Notable(span)) {  // a trace that only looked pending (another's bit)
    ++sampled_out_spans_;
    return;
  }
  Pend(span, now_us);  // the trace will be kept: its ordinary spans come out of limbo
  // Looking through limbo is a scan: a storm of errors must not make a batch quadratic.
  if (limbo_scans_left_ == 0) return;
  --limbo_scans_left_;
  limbo.ForEach([&](const SpanRecord& waiting) {
    // Notable spans of the trace were taken when they came (this one among them).
    if (waiting.trace_id == span.trace_id && !Notable(waiting)) {
      Pend(waiting, now_us);
      --sampled_out_spans_;
    }
  });
}

std::vector<SpanRecord> TraceStore::Settle(int64_t now_us, bool exported) {
  std::vector<SpanRecord> spans_out;
  std::vector<std::pair<TraceId, std::vector<SpanRecord>>> decided;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (now_us - it->second.last_us < options_.settle.count()) {
      ++it;
      continue;
    }
    pending_spans_ -= it->second.spans.size();
    bool keep =
        Chosen(it->first) || std::any_of(it->second.spans.begin(), it->second.spans.end(),
                                         [this](const SpanRecord& span) { return Notable(span); });
    if (keep) {
      ++kept_;
      if (exported) {
        spans_out.insert(spans_out.end(), it->second.spans.begin(), it->second.spans.end());
      }
      decided.emplace_back(it->first, std::move(it->second.spans));
    } else {
      ++sampled_out_;
    }
    it = pending_.erase(it);
  }
  std::fill(pending_bits_.begin(), pending_bits_.end(), 0);
  for (const auto& [id, trace] : pending_) MarkPending(id);
  // Into the ring by start time (the pending traces come in no particular order).
  auto started = [](const auto& trace) {
    int64_t first = INT64_MAX;
    for (const SpanRecord& span : trace.second) first = std::min(first, span.start_unix_us);
    return first;
  };
  std::sort(decided.begin(), decided.end(),
            [&](const auto& a, const auto& b) { return started(a) < started(b); });
  for (auto& trace : decided) {
    kept_traces_.push_back(std::move(trace));
    while (kept_traces_.size() > options_.max_traces) kept_traces_.pop_front();
  }
  return spans_out;
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
    s.error = s.error || Failed(span);
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
