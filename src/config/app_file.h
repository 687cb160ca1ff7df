// Reads an app file into an AppSpec. Every problem is reported with file:line:col; parsing
// goes on after an error so that one run shows all of them.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/app_spec.h"

namespace gantry::config {

struct ConfigError {
  std::string file;
  int line = 0;  // 1-based; 0 when the error is about the whole file
  int column = 0;
  std::string message;

  std::string ToString() const;  // "file:line:col: message"
};

struct AppFileResult {
  std::optional<AppSpec> spec;  // set only when errors is empty
  std::vector<ConfigError> errors;
};

// Parses app file text. `file` names it in messages; `directory` is where commands will run.
AppFileResult ParseAppFile(std::string_view text, const std::filesystem::path& file,
                           const std::filesystem::path& directory);

// Reads and parses the file at `path`.
AppFileResult LoadAppFile(const std::filesystem::path& path);

}  // namespace gantry::config
