#include "proxy/route_match.h"

#include <gtest/gtest.h>

#include "proxy/lb/round_robin.h"

namespace gantry::proxy {
namespace {

TEST(PrefixMatches, WholeSegments) {
  EXPECT_TRUE(PrefixMatches("/", "/anything"));
  EXPECT_TRUE(PrefixMatches("/greet", "/greet"));
  EXPECT_TRUE(PrefixMatches("/greet", "/greet/x"));
  EXPECT_TRUE(PrefixMatches("/greet/", "/greet/x"));
  EXPECT_TRUE(PrefixMatches("/greet", "/greet?q=1"));
  EXPECT_FALSE(PrefixMatches("/greet", "/greeting"));
  EXPECT_FALSE(PrefixMatches("/greet", "/gree"));
}

Snapshot TwoRoutes() {
  Snapshot s;
  s.clusters = {Cluster::Named("root"), Cluster::Named("api"), Cluster::Named("grpc")};
  // Sorted as the builder sorts them: longest prefix first.
  s.routes = {{"", "/api", 1, true, {}, {}},
              {"", "/", 0, false, {}, {}},
              {"grpc.local", "/", 2, false, {}, {}}};
  return s;
}

TEST(MatchRoute, LongestPrefixWins) {
  Snapshot s = TwoRoutes();
  EXPECT_EQ(MatchRoute(s, "example", "/api/orders")->cluster, 1u);
  EXPECT_EQ(MatchRoute(s, "example", "/apix")->cluster, 0u);
  EXPECT_EQ(MatchRoute(s, "example", "/")->cluster, 0u);
}

TEST(MatchRoute, HostRoutesComeFirst) {
  Snapshot s = TwoRoutes();
  EXPECT_EQ(MatchRoute(s, "grpc.local", "/api/x")->cluster, 2u);
}

TEST(MatchRoute, NoneWhenNothingMatches) {
  Snapshot s;
  s.clusters = {Cluster::Named("api")};
  s.routes = {{"", "/api", 0, false, {}, {}}};
  EXPECT_EQ(MatchRoute(s, "h", "/other"), nullptr);
}

TEST(StripPrefix, KeepsQueryAndLeadingSlash) {
  EXPECT_EQ(StripPrefix("/api", "/api/orders?x=1"), "/orders?x=1");
  EXPECT_EQ(StripPrefix("/api", "/api"), "/");
  EXPECT_EQ(StripPrefix("/api", "/api?x=1"), "/?x=1");
  EXPECT_EQ(StripPrefix("/api/", "/api/x"), "/x");
  EXPECT_EQ(StripPrefix("/", "/x"), "/x");
}

TEST(HostWithoutPort, Forms) {
  EXPECT_EQ(HostWithoutPort("Hello:8080"), "hello");
  EXPECT_EQ(HostWithoutPort("hello"), "hello");
  EXPECT_EQ(HostWithoutPort("[::1]:80"), "::1");
  EXPECT_EQ(HostWithoutPort(""), "");
}

TEST(RoundRobin, VisitsEveryEndpointInTurn) {
  RoundRobin rr;
  std::vector<size_t> picks;
  picks.reserve(6);
  for (int i = 0; i < 6; ++i) picks.push_back(rr.Pick(3));
  EXPECT_EQ(picks, (std::vector<size_t>{0, 1, 2, 0, 1, 2}));
}

TEST(RoundRobin, StartOffsetAndShrinkingSets) {
  RoundRobin rr(1);
  EXPECT_EQ(rr.Pick(3), 1u);
  EXPECT_EQ(rr.Pick(3), 2u);
  EXPECT_LT(rr.Pick(1), 1u);
  for (int i = 0; i < 10; ++i) EXPECT_LT(rr.Pick(2), 2u);
}

}  // namespace
}  // namespace gantry::proxy
