// Small string helpers shared by config and the CLI.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gantry {

// Levenshtein distance between two ASCII strings.
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `word` when it is close enough to be a likely typo.
std::optional<std::string> ClosestMatch(std::string_view word,
                                        const std::vector<std::string>& candidates);

}  // namespace gantry
