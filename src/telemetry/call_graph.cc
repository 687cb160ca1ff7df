#include "telemetry/call_graph.h"

#include <algorithm>
#include <tuple>

namespace gantry::telemetry {

CallGraph::CallGraph(Options options) : options_(options), table_(size_t{1} << options.table_bits) {
  names_ = {std::string(kGatewayCaller), std::string(kExternalCaller)};
  Grow();
}

void CallGraph::Grow() {
  size_t stride = std::max<size_t>(16, stride_ * 2);
  std::vector<Counts> counts(stride * stride);
  for (size_t from = 0; from < stride_; ++from) {
    for (size_t to = 0; to < stride_; ++to)
      counts[from * stride + to] = counts_[from * stride_ + to];
  }
  counts_ = std::move(counts);
  stride_ = stride;
}

CallGraph::ServiceIndex CallGraph::Intern(std::string_view service) {
  auto found = index_.find(service);
  if (found != index_.end()) return found->second;
  if (names_.size() > 0xffff) return kExternalIndex;  // never in practice: 65,534 services
  auto index = static_cast<ServiceIndex>(names_.size());
  names_.emplace_back(service);
  index_.emplace(names_.back(), index);
  if (names_.size() > stride_) Grow();
  return index;
}

CallGraph::ServiceIndex CallGraph::Learn(const SpanRecord& span) {
  ServiceIndex index = Intern(span.service.view());
  if (span.service_id != 0)
    id_cache_[span.service_id % std::size(id_cache_)] = {span.service_id, index};
  return index;
}

void CallGraph::AddMeshHop(const SpanRecord& span, ServiceIndex service, bool error,
                           int64_t now_us) {
  if (IsZero(span.parent_id)) {
    Count(kExternalIndex, service, error);
  } else if (const Slot* parent = Find(span.parent_id)) {
    Count(parent->service, service, error);
  } else if (waiting_.size() < options_.max_waiting) {
    waiting_.push_back(Child{span.parent_id, service, error, now_us});  // ends before its parent
  } else {
    Count(kExternalIndex, service, error);
  }
}

void CallGraph::EndBatch(int64_t now_us) {
  size_t kept = 0;
  for (Child& child : waiting_) {
    if (const Slot* parent = Find(child.parent)) {
      Count(parent->service, child.service, child.error);
    } else if (now_us - child.since_us >= options_.wait_us) {
      Count(kExternalIndex, child.service, child.error);
    } else {
      waiting_[kept++] = child;
    }
  }
  waiting_.resize(kept);
}

std::vector<CallGraph::Edge> CallGraph::Edges() const {
  std::vector<Edge> edges;
  for (size_t from = 0; from < names_.size(); ++from) {
    for (size_t to = 0; to < names_.size(); ++to) {
      const Counts& counts = counts_[from * stride_ + to];
      if (counts.calls > 0)
        edges.push_back(Edge{names_[from], names_[to], counts.calls, counts.errors});
    }
  }
  std::sort(edges.begin(), edges.end(), [](const Edge& a, const Edge& b) {
    return std::tie(a.from, a.to) < std::tie(b.from, b.to);
  });
  return edges;
}

}  // namespace gantry::telemetry
