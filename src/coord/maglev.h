// Maglev hashing (Eisenbud et al., NSDI 2016): a lookup table of a prime size in which every
// endpoint owns an almost equal share of slots (at most one slot apart), filled from each
// endpoint's own permutation so that a change of endpoints moves few slots. O(1) per pick.
// Built once per snapshot (immutable), read by every worker.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gantry::coord {

class Maglev {
 public:
  static constexpr uint32_t kDefaultTableSize = 65537;  // prime, much larger than endpoints

  explicit Maglev(const std::vector<std::string>& keys, uint32_t table_size = kDefaultTableSize);

  size_t Pick(uint64_t key_hash) const { return table_[key_hash % table_.size()]; }
  const std::vector<uint32_t>& table() const { return table_; }

 private:
  std::vector<uint32_t> table_;  // slot -> endpoint index
};

}  // namespace gantry::coord
