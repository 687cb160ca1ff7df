#include "coord/maglev.h"

#include "coord/stable_hash.h"

namespace gantry::coord {

Maglev::Maglev(const std::vector<std::string>& keys, uint32_t table_size) {
  if (keys.empty()) return;
  const uint64_t m = table_size;
  // Each endpoint walks its own permutation of the slots: offset + j * skip (mod M), with
  // skip in [1, M) so that the walk visits every slot (M is prime).
  std::vector<uint64_t> offset(keys.size());
  std::vector<uint64_t> skip(keys.size());
  std::vector<uint64_t> next(keys.size(), 0);
  for (size_t e = 0; e < keys.size(); ++e) {
    offset[e] = StableHash(keys[e], 0x6d61676c) % m;
    skip[e] = StableHash(keys[e], 0x65762121) % (m - 1) + 1;
  }
  constexpr uint32_t kEmpty = UINT32_MAX;
  table_.assign(table_size, kEmpty);
  uint64_t filled = 0;
  // Endpoints take turns claiming their next free slot: shares differ by at most one.
  while (true) {
    for (size_t e = 0; e < keys.size(); ++e) {
      uint64_t slot = (offset[e] + next[e] * skip[e]) % m;
      while (table_[slot] != kEmpty) {
        ++next[e];
        slot = (offset[e] + next[e] * skip[e]) % m;
      }
      table_[slot] = static_cast<uint32_t>(e);
      ++next[e];
      if (++filled == m) return;
    }
  }
}

}  // namespace gantry::coord
