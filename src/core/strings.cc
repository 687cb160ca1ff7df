#include "core/strings.h"

#include <cstdint>

#include <algorithm>

namespace gantry {

void AppendNumber(std::string& out, uint64_t value) {
  // Two digits a step from a table, written backwards: a fraction of std::to_chars' cost here.
  static constexpr char kPairs[] =
      "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
      "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
      "8081828384858687888990919293949596979899";
  char digits[20];
  char* end = digits + sizeof digits;
  char* p = end;
  while (value >= 100) {
    const char* pair = kPairs + (value % 100) * 2;
    value /= 100;
    *--p = pair[1];
    *--p = pair[0];
  }
  if (value >= 10) {
    *--p = kPairs[value * 2 + 1];
    *--p = kPairs[value * 2];
  } else {
    *--p = static_cast<char>('0' + value);
  }
  out.append(p, end);
}

size_t EditDistance(std::string_view a, std::string_view b) {
  // Three rows of the table: a swap of neighbours looks two rows back.
  std::vector<size_t> before(b.size() + 1), previous(b.size() + 1), row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({previous[j] + 1, row[j - 1] + 1, substitution});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        row[j] = std::min(row[j], before[j - 2] + 1);  // "sclae" -> "scale": one swap
      }
    }
    std::swap(before, previous);
    std::swap(previous, row);
  }
  return previous[b.size()];
}

std::optional<std::string> ClosestMatch(std::string_view word,
                                        const std::vector<std::string>& candidates) {
  // A third of the word's length, at least 1: "replcas" -> "replicas", not "x" -> "tcp".
  size_t limit = std::max<size_t>(1, word.size() / 3);
  std::optional<std::string> best;
  size_t best_distance = limit + 1;
  for (const auto& candidate : candidates) {
    // The distance is at least the difference in length: most candidates need no table.
    size_t gap = word.size() > candidate.size() ? word.size() - candidate.size()
                                                : candidate.size() - word.size();
    if (gap >= best_distance) continue;
    size_t d = EditDistance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

size_t Utf8SequenceAt(std::string_view text, size_t at) {
  auto c = static_cast<unsigned char>(text[at]);
  int extra = c < 0x80             ? 0
              : (c & 0xe0) == 0xc0 ? 1
              : (c & 0xf0) == 0xe0 ? 2
              : (c & 0xf8) == 0xf0 ? 3
                                   : -1;
  if (extra < 0) return 0;
  if (at + static_cast<size_t>(extra) >= text.size() && extra > 0) return 0;  // cut short
  uint32_t code = extra == 0 ? c : c & (0x3f >> extra);
  for (int k = 1; k <= extra; ++k) {
    auto next = static_cast<unsigned char>(text[at + static_cast<size_t>(k)]);
    if ((next & 0xc0) != 0x80) return 0;
    code = (code << 6) | (next & 0x3f);
  }
  static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
  if (code < kMin[extra] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return 0;
  return 1 + static_cast<size_t>(extra);
}

std::string ToValidUtf8(std::string text) {
  if (IsValidUtf8(text)) return text;
  std::string out;
  out.reserve(text.size() + 16);
  for (size_t i = 0; i < text.size();) {
    size_t length = Utf8SequenceAt(text, i);
    if (length == 0) {
      out += "\xef\xbf\xbd";  // U+FFFD
      ++i;
    } else {
      out.append(text, i, length);
      i += length;
    }
  }
  return out;
}

bool IsValidUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    size_t length = Utf8SequenceAt(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

}  // namespace gantry
