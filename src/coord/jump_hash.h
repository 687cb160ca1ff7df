// Jump consistent hashing (Lamping and Veach, 2014): a key's bucket among `buckets` numbered
// ones, with no table at all; growing from n to n+1 buckets moves only the keys that go to the
// new one. For sharding by number (partitions, workers), not by named replicas: removing a
// bucket other than the last moves keys, so named, changing sets use RingHash or Maglev.
#pragma once

#include <cstdint>

namespace gantry::coord {

inline int32_t JumpHash(uint64_t key, int32_t buckets) {
  int64_t b = -1;
  int64_t j = 0;
  while (j < buckets) {
    b = j;
    key = key * 2862933555777941757ULL + 1;
    j = static_cast<int64_t>(static_cast<double>(b + 1) * (static_cast<double>(1LL << 31) /
                                                           static_cast<double>((key >> 33) + 1)));
  }
  return static_cast<int32_t>(b);
}

}  // namespace gantry::coord
