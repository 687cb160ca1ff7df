// Minimal leveled logging to stderr. Thread-safe: each line is written with one write(2).
#pragma once

#include <string_view>

#include <fmt/format.h>

namespace gantry {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);
void LogWrite(LogLevel level, std::string_view message);

}  // namespace gantry

#define GANTRY_LOG(level, ...)                                                   \
  do {                                                                           \
    if (::gantry::LogEnabled(::gantry::LogLevel::level))                         \
      ::gantry::LogWrite(::gantry::LogLevel::level, ::fmt::format(__VA_ARGS__)); \
  } while (0)
