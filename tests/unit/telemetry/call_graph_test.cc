#include "telemetry/call_graph.h"

#include <gtest/gtest.h>

namespace gantry::telemetry {
namespace {

SpanId Id(uint8_t n) {
  SpanId id{};
  id[0] = n;
  id[7] = 0x5a;
  return id;
}

SpanRecord Hop(std::string_view service, uint8_t id, uint8_t parent, bool mesh,
               uint16_t status = 200) {
  SpanRecord span;
  span.service.Set(service);
  span.span_id = Id(id);
  if (parent) span.parent_id = Id(parent);
  span.mesh = mesh;
  span.status = status;
  return span;
}

std::string Describe(const std::vector<CallGraph::Edge>& edges) {
  std::string text;
  for (const auto& edge : edges) {
    text += edge.from + ">" + edge.to + ":" + std::to_string(edge.calls) + "/" +
            std::to_string(edge.errors) + " ";
  }
  return text;
}

TEST(CallGraphTest, MeshHopsAreCalledByTheirParentsService) {
  CallGraph graph;
  // gateway -> greeter, which calls hello and inventory; the children end first.
  graph.AddBatch(
      {Hop("hello", 2, 1, true), Hop("inventory", 3, 1, true, 503), Hop("greeter", 1, 0, false)},
      0);
  EXPECT_EQ(Describe(graph.Edges()),
            "gateway>greeter:1/0 greeter>hello:1/0 greeter>inventory:1/1 ");
  EXPECT_EQ(graph.waiting(), 0u);
}

TEST(CallGraphTest, AChildWaitsForAParentInALaterBatch) {
  CallGraph graph;
  graph.AddBatch({Hop("hello", 2, 1, true, 0)}, 0);
  EXPECT_EQ(graph.waiting(), 1u);
  EXPECT_EQ(Describe(graph.Edges()), "");
  graph.AddBatch({Hop("greeter", 1, 0, false)}, 250'000);
  EXPECT_EQ(Describe(graph.Edges()), "gateway>greeter:1/0 greeter>hello:1/1 ");
  EXPECT_EQ(graph.waiting(), 0u);
}

TEST(CallGraphTest, MeshHopsWithoutAKnownParentComeFromExternal) {
  CallGraph::Options options;
  options.wait_us = 1'000'000;
  CallGraph graph(options);
  graph.AddBatch({Hop("hello", 2, 0, true), Hop("hello", 3, 9, true)}, 0);
  EXPECT_EQ(Describe(graph.Edges()), "external>hello:1/0 ");
  graph.EndBatch(999'999);
  EXPECT_EQ(graph.waiting(), 1u);
  graph.EndBatch(1'000'000);  // the parent never came
  EXPECT_EQ(Describe(graph.Edges()), "external>hello:2/0 ");
  EXPECT_EQ(graph.waiting(), 0u);
}

TEST(CallGraphTest, WaitingChildrenAreBounded) {
  CallGraph::Options options;
  options.max_waiting = 2;
  CallGraph graph(options);
  graph.AddBatch({Hop("a", 2, 10, true), Hop("a", 3, 11, true), Hop("a", 4, 12, true)}, 0);
  EXPECT_EQ(graph.waiting(), 2u);
  EXPECT_EQ(Describe(graph.Edges()), "external>a:1/0 ");
}

TEST(CallGraphTest, ChainsAcrossSeveralMeshHops) {
  CallGraph graph;
  graph.AddBatch(
      {Hop("c", 3, 2, true), Hop("b", 2, 1, true), Hop("a", 1, 0, false), Hop("a", 4, 0, false)},
      0);
  EXPECT_EQ(Describe(graph.Edges()), "a>b:1/0 b>c:1/0 gateway>a:2/0 ");
}

}  // namespace
}  // namespace gantry::telemetry
