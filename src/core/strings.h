// Small string helpers shared by config, the CLI and the API's hot answers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gantry {

// Edit distance between two ASCII strings: insertions, deletions, substitutions and swaps of
// neighbours (the restricted Damerau-Levenshtein distance), each counting one.
size_t EditDistance(std::string_view a, std::string_view b);

// Whether `text` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF),
// as JSON text must be.
bool IsValidUtf8(std::string_view text);
// The length of the well-formed UTF-8 sequence that starts at text[at] (1 for ASCII), or 0 when
// the bytes there are not one (overlong forms, surrogates and cut-short sequences included).
size_t Utf8SequenceAt(std::string_view text, size_t at);
// `text` with every byte that is not part of a well-formed UTF-8 sequence replaced by U+FFFD
// (unchanged, and not copied, when it is well-formed already).
std::string ToValidUtf8(std::string text);

// Appends `value` in decimal (no format string: for answers built on every request).
void AppendNumber(std::string& out, uint64_t value);

// The candidate closest to `word` when it is close enough to be a likely typo.
std::optional<std::string> ClosestMatch(std::string_view word,
                                        const std::vector<std::string>& candidates);

}  // namespace gantry
