// The app file parser (config/app_file.h) on any text: errors name a line within the file, and
// a file that parses is checked as apply would check it against itself (no changes).
#include <string>

#include "config/app_diff.h"
#include "config/app_file.h"
#include "fuzz.h"

namespace config = gantry::config;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;  // big files only repeat what small ones show, slowly
  std::string text(AsText(data, size));
  config::AppFileResult result = config::ParseAppFile(text, "fuzz.yaml", "/srv/app");
  FUZZ_CHECK(result.spec.has_value() == result.errors.empty());
  for (const config::ConfigError& error : result.errors) {
    FUZZ_CHECK(error.line >= 0 && !error.message.empty());
  }
  if (result.spec) FUZZ_CHECK(config::DiffApps(*result.spec, *result.spec).empty());
  return 0;
}
