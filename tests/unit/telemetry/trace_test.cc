#include <thread>

#include <gtest/gtest.h>

#include "telemetry/call_graph.h"
#include "telemetry/span_buffer.h"
#include "telemetry/span_collector.h"
#include "telemetry/trace.h"
#include "telemetry/trace_store.h"

namespace gantry::telemetry {
namespace {

constexpr std::string_view kValid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceParent, ParsesAndFormatsTheW3cExample) {
  auto parsed = ParseTraceParent(kValid);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(Hex(parsed->trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(Hex(parsed->span_id), "00f067aa0ba902b7");
  EXPECT_EQ(parsed->flags, 1);
  char out[kTraceParentSize];
  FormatTraceParent(*parsed, out);
  EXPECT_EQ(std::string_view(out, sizeof out), kValid);
}

TEST(TraceParent, FormatsEveryByteValue) {
  // Every byte value in every position of both ids (the formatting is vectorised on x86).
  for (int first = 0; first < 256; first += 7) {
    TraceParent context;
    for (size_t i = 0; i < 16; ++i) context.trace_id[i] = static_cast<uint8_t>(first + 17 * i);
    for (size_t i = 0; i < 8; ++i) context.span_id[i] = static_cast<uint8_t>(first * 3 + 29 * i);
    context.flags = static_cast<uint8_t>(first);
    char out[kTraceParentSize];
    FormatTraceParent(context, out);
    std::string expected =
        "00-" + Hex(context.trace_id) + "-" + Hex(context.span_id) + "-" + Hex(&context.flags, 1);
    ASSERT_EQ(std::string_view(out, sizeof out), expected);
  }
  char digits[] = "0123456789abcdef";
  std::array<uint8_t, 16> bytes{};
  for (int b = 0; b < 256; ++b) {
    bytes[b % 16] = static_cast<uint8_t>(b);
    std::string hex = Hex(bytes);
    ASSERT_EQ(hex[2 * (b % 16)], digits[b >> 4]);
    ASSERT_EQ(hex[2 * (b % 16) + 1], digits[b & 15]);
  }
}

TEST(TraceParent, RefusesWhatTheSpecRefuses) {
  for (std::string_view bad : {
           "",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",     // short
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",    // uppercase
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",    // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",    // zero span id
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // version ff
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",  // v00 with more
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
       }) {
    EXPECT_FALSE(ParseTraceParent(bad)) << bad;
  }
  // A later version is read by its known fields.
  EXPECT_TRUE(ParseTraceParent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz"));
}

TEST(ShortText, CutsLongTextAndTakesAnEmptyViewWithoutData) {
  ShortText<4> text;
  text.Set(std::string_view());  // no data pointer at all: not passed to memcpy
  EXPECT_EQ(text.view(), "");
  text.Set("abcdef");
  EXPECT_EQ(text.view(), "abcd");
}

SpanRecord Span(uint8_t trace, uint8_t id, uint16_t status, uint32_t duration_us,
                std::string_view service = "web") {
  SpanRecord s;
  s.trace_id.fill(trace);
  s.span_id.fill(id);
  s.status = status;
  s.duration_us = duration_us;
  s.start_unix_us = 1000 * id + trace;  // a later trace starts later
  s.service.Set(service);
  s.target.Set("/x");
  return s;
}

// The control plane's pipeline as the agent runs it: a worker's ring, drained by a
// SpanCollector into a call graph and a trace store (limbo: the ring itself).
struct Pipeline {
  explicit Pipeline(TraceStoreOptions options) : store(options), collector({&ring}, calls, store) {}
  // Records `spans` as a worker would, then collects at `now_us`: the spans of traces kept.
  std::vector<SpanRecord> Feed(std::initializer_list<SpanRecord> spans, int64_t now_us) {
    for (const SpanRecord& span : spans) ring.Record(span);
    return collector.Collect(now_us);
  }
  SpanBuffer ring{1024};
  CallGraph calls;
  TraceStore store;
  SpanCollector collector;
};

TraceStoreOptions SampleRate(double rate) {
  TraceStoreOptions options;
  options.sample_rate = rate;
  return options;
}

TEST(TraceStore, KeepsErrorsAndSlowTracesAndSamplesTheRest) {
  Pipeline p(SampleRate(0));                          // only errors and slow ones
  p.Feed({Span(1, 1, 200, 100), Span(1, 2, 503, 50),  // an error in it
          Span(2, 1, 200, 600'000),                   // slow
          Span(3, 1, 200, 100)},                      // neither
         0);
  EXPECT_TRUE(p.Feed({}, 500'000).empty());                             // not quiet for 1 s yet
  EXPECT_TRUE(p.Feed({Span(3, 2, 200, 100, "api")}, 900'000).empty());  // trace 3 goes on
  EXPECT_EQ(p.Feed({}, 1'000'000).size(), 3u);                          // traces 1 and 2
  EXPECT_TRUE(p.Feed({}, 2'000'000).empty());                           // trace 3: sampled out
  EXPECT_FALSE(p.store.Get(Span(3, 1, 0, 0).trace_id));                 // never grouped
  EXPECT_EQ(p.store.sampled_out_spans(), 2u);
  auto listed = p.store.List("", 10);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].trace_id, Span(2, 1, 0, 0).trace_id);  // newest first
  EXPECT_TRUE(listed[1].error);
  EXPECT_EQ(listed[1].spans, 2u);
  EXPECT_TRUE(p.store.List("api", 10).empty());
  EXPECT_EQ(p.store.Get(Span(1, 1, 0, 0).trace_id)->size(), 2u);
}

// A child hop ends before its parent: its ordinary span waits in limbo (its ring), and joins
// the trace when the parent's error arrives in a later batch; one that waited past `settle`
// does not (its slot went back to the worker).
TEST(TraceStore, AnErrorBringsBackTheOrdinarySpansOfItsTrace) {
  Pipeline p(SampleRate(0));
  p.Feed({Span(7, 1, 200, 100), Span(8, 1, 200, 100)}, 0);
  p.Feed({Span(7, 2, 502, 300)}, 500'000);
  EXPECT_EQ(p.Feed({}, 1'600'000).size(), 2u);
  EXPECT_EQ(p.store.Get(Span(7, 1, 0, 0).trace_id)->size(), 2u);
  p.Feed({Span(9, 1, 200, 100)}, 2'000'000);
  p.Feed({}, 3'100'000);                      // the ordinary span's wait is over
  p.Feed({Span(9, 2, 500, 100)}, 3'200'000);  // too late to bring it back
  p.Feed({}, 4'300'000);
  EXPECT_EQ(p.store.Get(Span(9, 1, 0, 0).trace_id)->size(), 1u);
  EXPECT_FALSE(p.store.Get(Span(8, 1, 0, 0).trace_id));
}

// An error first, then its trace's ordinary spans in later batches (a parent ends after its
// child): they join the pending trace, also after a Settle that left it pending.
TEST(TraceStore, OrdinarySpansJoinATraceAlreadyPending) {
  Pipeline p(SampleRate(0));
  p.Feed({Span(4, 1, 500, 100), Span(5, 1, 200, 100)}, 0);
  EXPECT_TRUE(p.Feed({}, 500'000).empty());
  p.Feed({Span(4, 2, 200, 100), Span(5, 2, 200, 100)}, 600'000);
  EXPECT_EQ(p.Feed({}, 2'000'000).size(), 2u);
  EXPECT_EQ(p.store.Get(Span(4, 1, 0, 0).trace_id)->size(), 2u);
  EXPECT_FALSE(p.store.Get(Span(5, 1, 0, 0).trace_id));
}

// A trace decided once is not grouped again from spans still in limbo when a late error of
// it comes: each span is in one kept trace at most.
TEST(TraceStore, ALateErrorDoesNotTakeTheSameSpansTwice) {
  Pipeline p(SampleRate(0));
  p.Feed({Span(6, 1, 200, 100), Span(6, 2, 500, 100)}, 0);
  p.Feed({Span(6, 3, 200, 100)}, 250'000);      // joins the pending trace
  EXPECT_EQ(p.Feed({}, 1'250'000).size(), 3u);  // decided: quiet for 1 s
  p.Feed({Span(6, 4, 503, 100)}, 1'500'000);    // a late error of it
  EXPECT_EQ(p.Feed({}, 2'750'000).size(), 1u);  // only the new span
}

// The caller's sampled flag keeps a trace the sample rate would not; its unflagged siblings in
// limbo come with it, as they do for an error.
TEST(TraceStore, ATraceWhoseSampledFlagIsSetIsKept) {
  Pipeline p(SampleRate(0));
  SpanRecord flagged = Span(11, 2, 200, 100);
  flagged.sampled = true;
  p.Feed({Span(11, 1, 200, 100), Span(12, 1, 200, 100)}, 0);
  p.Feed({flagged}, 100'000);
  EXPECT_EQ(p.Feed({}, 1'200'000).size(), 2u);
  EXPECT_EQ(p.store.Get(flagged.trace_id)->size(), 2u);
  EXPECT_FALSE(p.store.Get(Span(12, 1, 0, 0).trace_id));
}

TEST(TraceSampler, DecidesByTheIdsRandomWordAtTheRate) {
  TraceId low{}, high{};
  high.fill(0xff);
  low[8] = 1;  // the random word's value is 1
  EXPECT_FALSE(TraceSampler(0).Chosen(low));
  EXPECT_TRUE(TraceSampler(0.5).Chosen(low));
  EXPECT_FALSE(TraceSampler(0.5).Chosen(high));
  EXPECT_TRUE(TraceSampler(1).Chosen(high));
}

TEST(TraceStore, SampleRateOneKeepsEverythingAndTheRingIsBounded) {
  TraceStoreOptions options = SampleRate(1);
  options.max_traces = 3;
  Pipeline p(options);
  for (uint8_t t = 1; t <= 5; ++t) p.Feed({Span(t, 1, 200, 10)}, 0);
  p.Feed({}, 10'000'000);
  auto listed = p.store.List("", 10);
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed.back().trace_id, Span(3, 1, 0, 0).trace_id);  // 1 and 2 went
}

TEST(SpanBuffer, KeepsDrainedSpansUntilReleasedAndAtMostHalfTheRing) {
  SpanBuffer buffer(8);
  for (uint8_t i = 1; i <= 3; ++i) buffer.Record(Span(i, i, 200, 1));
  int visited = 0;
  buffer.Drain(100, [&](const SpanRecord&) { ++visited; });
  buffer.Record(Span(4, 4, 200, 1));
  buffer.Drain(200, [&](const SpanRecord&) { ++visited; });
  EXPECT_EQ(visited, 4);
  auto retained = [&] {
    std::vector<uint8_t> ids;
    buffer.ForEachRetained([&](const SpanRecord& span) { ids.push_back(span.span_id[0]); });
    return ids;
  };
  EXPECT_EQ(retained(), (std::vector<uint8_t>{1, 2, 3, 4}));
  buffer.ReleaseDrainedUpTo(99);  // nothing drained that early
  EXPECT_EQ(retained().size(), 4u);
  buffer.ReleaseDrainedUpTo(100);
  EXPECT_EQ(retained(), (std::vector<uint8_t>{4}));
  // Retained spans take room: 1 held + 7 new fill the ring of 8; an eighth new one is dropped.
  for (uint8_t i = 5; i <= 12; ++i) buffer.Record(Span(i, i, 200, 1));
  EXPECT_EQ(buffer.Drain(300, [](const SpanRecord&) {}), 1u);
  // After the drain, at most half the ring is held: the oldest went early.
  EXPECT_EQ(retained(), (std::vector<uint8_t>{8, 9, 10, 11}));
  EXPECT_EQ(buffer.released_early(), 4u);
}

TEST(SpanBuffer, DropsPastItsCapacityAndDrainsInOrder) {
  SpanBuffer buffer(2);
  for (uint8_t i = 1; i <= 3; ++i) buffer.Record(Span(i, i, 200, 1));
  std::vector<SpanRecord> out;
  EXPECT_EQ(buffer.Drain(out), 1u);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].span_id, Span(2, 2, 0, 0).span_id);
  EXPECT_EQ(buffer.Drain(out), 0u);
}

// One worker thread writing while the control plane drains: every span arrives once, in
// order, whole (a torn slot would mix two spans' fields).
TEST(SpanBuffer, AWriterAndAReaderAtOnce) {
  SpanBuffer buffer(64);
  constexpr uint32_t kSpans = 200'000;
  std::thread writer([&] {
    for (uint32_t i = 0; i < kSpans;) {
      if (SpanRecord* slot = buffer.Claim()) {
        slot->duration_us = i;
        slot->start_unix_us = int64_t{i} * 3;
        buffer.Publish();
        ++i;
      }
    }
  });
  std::vector<SpanRecord> got;
  while (got.size() < kSpans) buffer.Drain(got);  // (refusals while full are the writer's retries)
  writer.join();
  ASSERT_EQ(got.size(), kSpans);
  for (uint32_t i = 0; i < kSpans; ++i) {
    ASSERT_EQ(got[i].duration_us, i);
    ASSERT_EQ(got[i].start_unix_us, int64_t{i} * 3);
  }
}

}  // namespace
}  // namespace gantry::telemetry
