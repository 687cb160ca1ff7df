#include "config/app_diff.h"

#include <gtest/gtest.h>

#include "config/app_file.h"

namespace gantry::config {
namespace {

AppSpec Parse(const std::string& text) {
  AppFileResult result = ParseAppFile(text, "app.yaml", "/srv/app");
  EXPECT_TRUE(result.errors.empty()) << result.errors[0].ToString();
  return *result.spec;
}

const char* kBefore = R"(services:
  web: { command: [web], replicas: 2, health: { http: /h } }
  api: { command: [api], env: { A: "1" } }
  old: { command: [old] }
gateway:
  routes:
    - { path: /, service: web }
)";

TEST(AppDiff, NoChanges) {
  EXPECT_TRUE(DiffApps(Parse(kBefore), Parse(kBefore)).empty());
  EXPECT_EQ(DescribeChanges({}), "no changes\n");
}

TEST(AppDiff, EveryKindOfChange) {
  auto changes = DiffApps(Parse(kBefore), Parse(R"(services:
  web:
    command: [web]
    replicas: 5
    health: { http: /h }
    resources: { cpus: 0.5 }
    policy: { lb: random }
  api: { command: [api, --fast], env: { A: "2" } }
  new: { command: [new], replicas: 3 }
gateway:
  listen: 127.0.0.1:9999
  routes:
    - { path: /, service: web }
    - { path: /api, service: api }
)"));
  EXPECT_EQ(DescribeChanges(changes),
            "- old: removed: its replicas stop\n"
            "~ web: replicas 2 -> 5\n"
            "~ web: cpus unlimited, memory unlimited -> cpus 0.5, memory unlimited (in place)\n"
            "~ web: policy (in place)\n"
            "    policy.lb: round_robin -> random\n"
            "~ api: command, env: replicas replaced (rolling, max_surge 1, max_unavailable 0)\n"
            "    command: [\"api\"] -> [\"api\", \"--fast\"]\n"
            "    env.A: \"1\" -> \"2\"\n"
            "+ new: new service, 3 replicas\n"
            "~ gateway routes: 1 -> 2 (in place)\n"
            "    + /api -> api\n"
            "! gateway.listen or mesh.listen: needs an agent restart\n");
  EXPECT_EQ(changes[4].kind, AppChange::Kind::kReplace);
  EXPECT_STREQ(ChangeKindName(changes[0].kind), "remove");
}

TEST(AppDiff, FieldsShowOldAndNewValues) {
  auto changes = DiffApps(Parse(kBefore), Parse(R"(services:
  web: { command: [web], replicas: 2, health: { http: /ready, interval: 1s }, stop_grace: 3s,
         policy: { timeout: 2s, retries: { attempts: 2, on: ["503"] } } }
  api: { command: [api], env: { B: x } }
  old: { command: [old] }
gateway:
  routes:
    - { path: /, service: web, strip_prefix: true }
)"));
  std::string text = DescribeChanges(changes);
  for (const char* line :
       {"    health: http /h every 2s, timeout 1s, healthy after 1, unhealthy after 3 -> "
        "http /ready every 1s, timeout 1s, healthy after 1, unhealthy after 3\n",
        "    stop_grace: 10s -> 3s\n", "    policy.timeout: 15s -> 2s\n",
        "    policy.retries: attempts 1 on [connect-failure, reset], per_try_timeout 0s, budget "
        "0.2 (min 3), backoff 25ms..250ms -> attempts 2 on [503], per_try_timeout 0s, budget 0.2 "
        "(min 3), backoff 25ms..250ms\n",
        "    env.A: \"1\" -> (none)\n", "    env.B: (none) -> \"x\"\n", "    - / -> web\n",
        "    + / -> web, strip_prefix\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\nin:\n" << text;
  }
}

}  // namespace
}  // namespace gantry::config
