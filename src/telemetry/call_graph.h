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

  // The spans drained at `now_us` (a monotonic clock).
  void Add(const std::vector<SpanRecord>& spans, int64_t now_us);
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

  ServiceIndex Intern(std::string_view service);
  Slot& SlotOf(const SpanId& span);
  const Slot* Find(const SpanId& span);
  void Count(ServiceIndex from, ServiceIndex to, bool error);

  Options options_;
  std::vector<Slot> table_;
  std::vector<std::string> names_;  // by ServiceIndex; 0: gateway, 1: external
  std::unordered_map<std::string, ServiceIndex> index_;
  ServiceIndex last_ = 0;
  std::vector<Child> waiting_;
  std::unordered_map<uint32_t, Counts> edges_;  // (from << 16) | to
};

}  // namespace gantry::telemetry
