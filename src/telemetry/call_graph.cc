#include "telemetry/call_graph.h"

#include <algorithm>
#include <cstring>
#include <tuple>

namespace gantry::telemetry {
namespace {

constexpr uint16_t kGateway = 0;
constexpr uint16_t kExternal = 1;

bool Failed(const SpanRecord& span) { return span.status == 0 || span.status >= 500; }

}  // namespace

CallGraph::CallGraph(Options options) : options_(options), table_(size_t{1} << options.table_bits) {
  names_ = {std::string(kGatewayCaller), std::string(kExternalCaller)};
}

CallGraph::ServiceIndex CallGraph::Intern(std::string_view service) {
  // Batches come mostly from few services: the last one found is checked before the map.
  if (names_[last_] == service) return last_;
  auto found = index_.find(std::string(service));
  if (found != index_.end()) return last_ = found->second;
  if (names_.size() > 0xffff) return kExternal;  // never in practice: 65,534 services
  auto index = static_cast<ServiceIndex>(names_.size());
  names_.emplace_back(service);
  index_.emplace(names_.back(), index);
  return last_ = index;
}

CallGraph::Slot& CallGraph::SlotOf(const SpanId& span) {
  uint64_t bits;  // span ids are random: their low bits spread evenly
  std::memcpy(&bits, span.data(), sizeof bits);
  return table_[bits & (table_.size() - 1)];
}

const CallGraph::Slot* CallGraph::Find(const SpanId& span) {
  const Slot& slot = SlotOf(span);
  return slot.used && slot.span == span ? &slot : nullptr;
}

void CallGraph::Count(ServiceIndex from, ServiceIndex to, bool error) {
  Counts& counts = edges_[(uint32_t{from} << 16) | to];
  ++counts.calls;
  if (error) ++counts.errors;
}

void CallGraph::Add(const std::vector<SpanRecord>& spans, int64_t now_us) {
  // Remember this batch's spans first: a parent often comes in the same batch as its children.
  std::vector<ServiceIndex> services;
  services.reserve(spans.size());
  for (const SpanRecord& span : spans) {
    services.push_back(Intern(span.service.view()));
    Slot& slot = SlotOf(span.span_id);
    slot = Slot{span.span_id, services.back(), true};
  }
  // Children from earlier batches whose parent may have come now.
  size_t kept = 0;
  for (Child& child : waiting_) {
    if (const Slot* parent = Find(child.parent)) {
      Count(parent->service, child.service, child.error);
    } else if (now_us - child.since_us >= options_.wait_us) {
      Count(kExternal, child.service, child.error);
    } else {
      waiting_[kept++] = child;
    }
  }
  waiting_.resize(kept);
  for (size_t i = 0; i < spans.size(); ++i) {
    const SpanRecord& span = spans[i];
    bool error = Failed(span);
    if (!span.mesh) {
      Count(kGateway, services[i], error);
    } else if (IsZero(span.parent_id.data(), span.parent_id.size())) {
      Count(kExternal, services[i], error);
    } else if (const Slot* parent = Find(span.parent_id)) {
      Count(parent->service, services[i], error);
    } else if (waiting_.size() < options_.max_waiting) {
      waiting_.push_back(Child{span.parent_id, services[i], error, now_us});
    } else {
      Count(kExternal, services[i], error);
    }
  }
}

std::vector<CallGraph::Edge> CallGraph::Edges() const {
  std::vector<Edge> edges;
  edges.reserve(edges_.size());
  for (const auto& [key, counts] : edges_) {
    edges.push_back(Edge{names_[key >> 16], names_[key & 0xffff], counts.calls, counts.errors});
  }
  std::sort(edges.begin(), edges.end(), [](const Edge& a, const Edge& b) {
    return std::tie(a.from, a.to) < std::tie(b.from, b.to);
  });
  return edges;
}

}  // namespace gantry::telemetry
