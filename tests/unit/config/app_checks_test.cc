#include "config/app_checks.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "config/yaml_reader.h"

namespace gantry::config {
namespace {

// An app of `n` services, each depending on the one before and routed at /p<i>: every check
// touches every service. Built without YAML, so that only the checks are measured.
AppSpec Chain(int n, References& refs) {
  AppSpec spec;
  spec.services.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    ServiceSpec& s = spec.services[static_cast<size_t>(i)];
    s.name = "s" + std::to_string(i);
    s.location = {i + 1, 3};
    if (i > 0) {
      s.depends_on.push_back("s" + std::to_string(i - 1));
      refs.Add(s.depends_on.back(), s.location, "services." + s.name + ".depends_on");
    }
    RouteSpec& route = spec.gateway.routes.emplace_back();
    route.path = "/p" + std::to_string(i);
    route.service = s.name;
    route.location = {n + i + 1, 7};
    refs.Add(route.service, route.location, "gateway.routes");
  }
  return spec;
}

// Linear in the app's size: a chain of 50,000 services (a recursive search would need as many
// stack frames, a scan per reference 10^9 comparisons) is checked in about a second under ASan.
TEST(AppChecks, AChainOfManyServicesIsCheckedInLinearTime) {
  References refs;
  AppSpec spec = Chain(50'000, refs);
  Diagnostics diag("big.yaml");
  auto started = std::chrono::steady_clock::now();
  CheckReferences(spec, refs, diag);
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_TRUE(diag.empty());
  EXPECT_LT(took, std::chrono::seconds(10));  // ~1 s under ASan; the quadratic one: minutes
}

TEST(AppChecks, ACycleAtTheEndOfALongChainAndADuplicateRouteAreFound) {
  References refs;
  AppSpec spec = Chain(50'000, refs);
  spec.services[49'990].depends_on.push_back("s49999");  // s49999 -> ... -> s49990 -> s49999
  spec.gateway.routes.push_back(spec.gateway.routes[123]);
  spec.gateway.routes.back().location = {999'999, 7};
  Diagnostics diag("big.yaml");
  CheckReferences(spec, refs, diag);
  std::vector<ConfigError> errors = diag.Take();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_NE(errors[0].message.find("dependency cycle: s49990 -> s49999 -> s49998"),
            std::string::npos)
      << errors[0].message;
  EXPECT_NE(errors[0].message.find("-> s49991 -> s49990"), std::string::npos);
  EXPECT_EQ(errors[1].line, 999'999);
  EXPECT_NE(errors[1].message.find("same host and path as the route at 50124:7"), std::string::npos)
      << errors[1].message;
}

}  // namespace
}  // namespace gantry::config
