#include "telemetry/trace_store.h"

#include <algorithm>
#include <cstring>
#include <set>

namespace gantry::telemetry {

bool TraceStore::Notable(const SpanRecord& span) const {
  return span.status == 0 || span.status >= 500 ||
         span.duration_us >= static_cast<uint64_t>(options_.slow.count());
}

bool TraceStore::Chosen(const TraceId& id) const {
  // The trace id's last 8 bytes are random: their value decides, the same way everywhere.
  uint64_t low = 0;
  std::memcpy(&low, id.data() + 8, 8);
  return static_cast<double>(low) < options_.sample_rate * 18446744073709551616.0;
}

void TraceStore::Pend(const SpanRecord& span, int64_t now_us) {
  if (pending_spans_ >= options_.max_pending_spans) {
    ++dropped_spans_;
    return;
  }
  Pending& trace = pending_[span.trace_id];
  if (trace.spans.size() >= options_.max_spans_per_trace) {
    ++dropped_spans_;
    return;
  }
  trace.spans.push_back(span);
  trace.last_us = now_us;
  ++pending_spans_;
}

void TraceStore::Add(std::vector<SpanRecord> spans, int64_t now_us) {
  // Looking through limbo is a scan: a storm of errors must not make each batch quadratic.
  size_t scans_left = kLimboScansPerBatch;
  for (const SpanRecord& span : spans) {
    auto pending = pending_.find(span.trace_id);
    if (pending != pending_.end() || Chosen(span.trace_id)) {
      Pend(span, now_us);
    } else if (Notable(span)) {
      Pend(span, now_us);  // the trace will be kept: its ordinary spans come out of limbo
      if (scans_left == 0) continue;
      --scans_left;
      for (Waiting& waiting : limbo_) {
        if (waiting.at_us >= 0 && now_us - waiting.at_us < options_.settle.count() &&
            waiting.span.trace_id == span.trace_id) {
          Pend(waiting.span, now_us);
          waiting.at_us = -1;
        }
      }
    } else if (!limbo_.empty()) {
      Waiting& slot = limbo_[limbo_next_];
      limbo_next_ = (limbo_next_ + 1) % limbo_.size();
      if (slot.at_us >= 0) {  // its wait was over (a trace not kept), or it is cut short
        ++(now_us - slot.at_us < options_.settle.count() ? dropped_spans_ : sampled_out_spans_);
      }
      slot.span = span;
      slot.at_us = now_us;
    }
  }
}

std::vector<SpanRecord> TraceStore::Settle(int64_t now_us) {
  std::vector<SpanRecord> exported;
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
      exported.insert(exported.end(), it->second.spans.begin(), it->second.spans.end());
      decided.emplace_back(it->first, std::move(it->second.spans));
    } else {
      ++sampled_out_;
    }
    it = pending_.erase(it);
  }
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
