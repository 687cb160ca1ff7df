#include <thread>

#include <gtest/gtest.h>

#include "telemetry/span_buffer.h"
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

TEST(TraceStore, KeepsErrorsAndSlowTracesAndSamplesTheRest) {
  TraceStoreOptions options;
  options.sample_rate = 0;  // only errors and slow ones
  TraceStore store(options);
  store.Add({Span(1, 1, 200, 100), Span(1, 2, 503, 50)}, 0);  // an error in it
  store.Add({Span(2, 1, 200, 600'000)}, 0);                   // slow
  store.Add({Span(3, 1, 200, 100)}, 0);                       // neither
  EXPECT_TRUE(store.Settle(500'000).empty());                 // not quiet for 1 s yet
  store.Add({Span(3, 2, 200, 100, "api")}, 900'000);          // trace 3 goes on
  EXPECT_EQ(store.Settle(1'000'000).size(), 3u);              // traces 1 and 2
  EXPECT_TRUE(store.Settle(2'000'000).empty());               // trace 3: sampled out
  EXPECT_FALSE(store.Get(Span(3, 1, 0, 0).trace_id));         // never grouped
  auto listed = store.List("", 10);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].trace_id, Span(2, 1, 0, 0).trace_id);  // newest first
  EXPECT_TRUE(listed[1].error);
  EXPECT_EQ(listed[1].spans, 2u);
  EXPECT_TRUE(store.List("api", 10).empty());
  EXPECT_EQ(store.Get(Span(1, 1, 0, 0).trace_id)->size(), 2u);
  EXPECT_FALSE(store.Get(Span(3, 1, 0, 0).trace_id));
}

// A child hop ends before its parent: its ordinary span waits in limbo, and joins the trace
// when the parent's error arrives in a later batch; one that waited past `settle` does not.
TEST(TraceStore, AnErrorBringsBackTheOrdinarySpansOfItsTrace) {
  TraceStoreOptions options;
  options.sample_rate = 0;
  TraceStore store(options);
  store.Add({Span(7, 1, 200, 100)}, 0);
  store.Add({Span(8, 1, 200, 100)}, 0);
  store.Add({Span(7, 2, 502, 300)}, 500'000);
  EXPECT_EQ(store.Settle(1'600'000).size(), 2u);
  EXPECT_EQ(store.Get(Span(7, 1, 0, 0).trace_id)->size(), 2u);
  store.Add({Span(9, 1, 200, 100)}, 2'000'000);
  store.Settle(3'100'000);                       // the ordinary span's wait is over
  store.Add({Span(9, 2, 500, 100)}, 3'200'000);  // too late to bring it back
  store.Settle(4'300'000);
  EXPECT_EQ(store.Get(Span(9, 1, 0, 0).trace_id)->size(), 1u);
  EXPECT_FALSE(store.Get(Span(8, 1, 0, 0).trace_id));
}

TEST(TraceStore, SampleRateOneKeepsEverythingAndTheRingIsBounded) {
  TraceStoreOptions options;
  options.sample_rate = 1;
  options.max_traces = 3;
  TraceStore store(options);
  for (uint8_t t = 1; t <= 5; ++t) store.Add({Span(t, 1, 200, 10)}, 0);
  store.Settle(10'000'000);
  auto listed = store.List("", 10);
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed.back().trace_id, Span(3, 1, 0, 0).trace_id);  // 1 and 2 went
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
