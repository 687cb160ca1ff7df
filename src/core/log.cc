#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/status.h"

namespace gantry {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kWarn)};

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}
}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void LogWrite(LogLevel level, std::string_view message) {
  std::string line = fmt::format("gantry {}: {}\n", LevelName(level), message);
  // One write so lines from different threads never interleave.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

namespace internal {
void CheckFailed(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "gantry: check failed: %s at %s:%d\n", condition, file, line);
  std::abort();
}

void BugReported(const char* what, const char* file, int line) {
#ifdef NDEBUG
  GANTRY_LOG(kError, "bug: {} at {}:{}", what, file, line);
#else
  CheckFailed(what, file, line);
#endif
}
}  // namespace internal
}  // namespace gantry
