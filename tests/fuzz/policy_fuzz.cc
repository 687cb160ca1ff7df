// The policy block's parser (config/policy_file.cc: lb, retries, breaker, outlier, rate limits,
// update, resources, autoscale): the input is a service's settings under a fixed command, so
// that every mutation lands in those blocks instead of the file's outer shape.
#include <string>

#include "config/app_file.h"
#include "fuzz.h"

namespace config = gantry::config;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16 * 1024) return 0;
  std::string text = "services:\n  web:\n    command: [web]\n";
  // Each input line becomes a setting of the service (indented under it).
  std::string_view input = AsText(data, size);
  while (!input.empty()) {
    size_t end = input.find('\n');
    text += "    ";
    text += input.substr(0, end);
    text += '\n';
    if (end == std::string_view::npos) break;
    input.remove_prefix(end + 1);
  }
  text += "gateway:\n  routes:\n    - { path: /, service: web }\n";
  config::AppFileResult result = config::ParseAppFile(text, "fuzz.yaml", "/srv/app");
  FUZZ_CHECK(result.spec.has_value() == result.errors.empty());
  if (result.spec) {
    const config::PolicySpec& policy = result.spec->services[0].policy;
    FUZZ_CHECK(policy.panic_threshold >= 0 && policy.panic_threshold <= 100);
    FUZZ_CHECK(policy.retries.attempts >= 0);
  }
  return 0;
}
