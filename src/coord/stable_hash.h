// A stable 64-bit hash for load balancing: the same key lands on the same replica in every
// worker, process and version (std::hash and absl::Hash promise none of that).
#pragma once

#include <cstdint>
#include <string_view>

namespace gantry::coord {

// FNV-1a, then a SplitMix64 finalizer so that keys differing in one byte spread over all bits.
inline uint64_t StableHash(std::string_view data, uint64_t seed = 0) {
  uint64_t h = 0xcbf29ce484222325ULL ^ seed;
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

}  // namespace gantry::coord
