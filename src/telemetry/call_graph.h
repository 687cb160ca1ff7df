// Who calls whom: calls between services, counted from the span of every proxied hop (traced
// or not: it is fed before tail sampling). A gateway hop is a call from "gateway". A mesh hop's
// caller is the service of its parent span: the hop that brought the request to the calling
// replica, which passed the trace context on. A mesh hop without a parent, or whose parent does
// not show up within `wait`, is a call from "external" (`gantry call`, a replica that drops the
// trace context, a process gantry does not run).
// A parent hop ends after its children (it waits for their answers), so a child may wait a few
// batches for it. Recent spans are remembered in a direct-mapped table (span id -> service,
// the newest overwriting): no allocation per span.
// Control-plane thread only.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <iterator>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "telemetry/trace.h"

namespace gantry::telemetry {

inline constexpr std::string_view kGatewayCaller = "gateway";
inline constexpr std::string_view kExternalCaller = "external";

class CallGraph {
 public:
  struct Options {
    int64_t wait_us = 30'000'000;  // for a child's parent to end
    size_t max_waiting = 65'536;   // children waiting at most (beyond: from "external")
    size_t table_bits = 16;        // remembered spans: 2^bits slots
  };
  CallGraph() : CallGraph(Options{}) {}
  explicit CallGraph(Options options);

  struct Edge {
    std::string from, to;
    uint64_t calls = 0;
    uint64_t errors = 0;  // 5xx, or no answer
  };

  // A batch of spans drained at `now_us` (a monotonic clock): Add each, then EndBatch (the
  // children that came before their parent are matched then).
  // The common case (a service seen before, a gateway hop) is inline.
  void Add(const SpanRecord& span, int64_t now_us) {
    ServiceIndex service = IndexOf(span);
    SlotOf(span.span_id) = Slot{span.span_id, service, true};
    bool error = Failed(span);
    if (!span.mesh) return Count(kGatewayIndex, service, error);
    AddMeshHop(span, service, error, now_us);
  }
  void EndBatch(int64_t now_us);
  void AddBatch(const std::vector<SpanRecord>& spans, int64_t now_us) {
    for (const SpanRecord& span : spans) Add(span, now_us);
    EndBatch(now_us);
  }
  // Every edge seen so far, by caller then callee.
  std::vector<Edge> Edges() const;
  size_t waiting() const { return waiting_.size(); }

 private:
  using ServiceIndex = uint16_t;
  struct Slot {
    SpanId span{};
    ServiceIndex service = 0;
    bool used = false;
  };
  struct Child {
    SpanId parent{};
    ServiceIndex service = 0;
    bool error = false;
    int64_t since_us = 0;
  };
  struct Counts {
    uint64_t calls = 0, errors = 0;
  };

  static constexpr ServiceIndex kGatewayIndex = 0;
  static constexpr ServiceIndex kExternalIndex = 1;
  // A span's service by its id, from a small cache; by name when the id is not cached.
  ServiceIndex IndexOf(const SpanRecord& span) {
    const IdCacheEntry& entry = id_cache_[span.service_id % std::size(id_cache_)];
    if (span.service_id != 0 && entry.id == span.service_id) return entry.index;
    return Learn(span);
  }
  ServiceIndex Learn(const SpanRecord& span);
  ServiceIndex Intern(std::string_view service);
  void AddMeshHop(const SpanRecord& span, ServiceIndex service, bool error, int64_t now_us);
  void Grow();
  Slot& SlotOf(const SpanId& span) {
    uint64_t bits;  // span ids are random: their low bits spread evenly
    std::memcpy(&bits, span.data(), sizeof bits);
    return table_[bits & (table_.size() - 1)];
  }
  const Slot* Find(const SpanId& span) {
    const Slot& slot = SlotOf(span);
    return slot.used && slot.span == span ? &slot : nullptr;
  }
  void Count(ServiceIndex from, ServiceIndex to, bool error) {
    Counts& counts = counts_[from * stride_ + to];
    ++counts.calls;
    counts.errors += error;
  }

  Options options_;
  std::vector<Slot> table_;
  std::vector<std::string> names_;  // by ServiceIndex; 0: gateway, 1: external
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view name) const { return std::hash<std::string_view>{}(name); }
  };
  std::unordered_map<std::string, ServiceIndex, NameHash, std::equal_to<>> index_;
  struct IdCacheEntry {
    uint32_t id = 0;
    ServiceIndex index = 0;
  };
  IdCacheEntry id_cache_[256];
  std::vector<Child> waiting_;
  size_t stride_ = 0;  // counts_ is stride_ x stride_, by caller then callee
  std::vector<Counts> counts_;
};

}  // namespace gantry::telemetry
