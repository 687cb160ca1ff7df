// A consumer's committed offset: every offset before it is acknowledged. Acknowledgements come
// out of order (many messages in flight); offsets lost to retention before they were delivered
// count as acknowledged. Pure.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>

namespace gantry::broker {

class OffsetTracker {
 public:
  explicit OffsetTracker(uint64_t committed = 0) : committed_(committed), next_(committed) {}

  uint64_t committed() const { return committed_; }
  bool acknowledged(uint64_t offset) const { return offset < committed_ || done_.contains(offset); }
  // The offset after the last one fetched (the committed one before the first fetch).
  uint64_t next() const { return next_; }
  // `offset` was fetched. Offsets between next() and it were dropped by retention before anyone
  // fetched them: they count as acknowledged. Returns how many those were.
  uint64_t Fetched(uint64_t offset) {
    uint64_t dropped = offset > next_ ? offset - next_ : 0;
    if (dropped) Skip(next_, offset);
    next_ = std::max(next_, offset + 1);
    return dropped;
  }
  void Ack(uint64_t offset) {
    if (offset >= committed_) done_.insert(offset);
    Advance();
  }
  // [from, to) will never be delivered (retention dropped them).
  void Skip(uint64_t from, uint64_t to) {
    if (to > from) gaps_[from] = std::max(gaps_[from], to);
    Advance();
  }

 private:
  void Advance() {
    for (;;) {
      if (!done_.empty() && *done_.begin() <= committed_) {
        if (*done_.begin() == committed_) ++committed_;
        done_.erase(done_.begin());
      } else if (!gaps_.empty() && gaps_.begin()->first <= committed_) {
        committed_ = std::max(committed_, gaps_.begin()->second);
        gaps_.erase(gaps_.begin());
      } else {
        return;
      }
    }
  }

  uint64_t committed_;
  uint64_t next_;
  std::set<uint64_t> done_;            // acknowledged, past committed_
  std::map<uint64_t, uint64_t> gaps_;  // [first, end) skipped
};

}  // namespace gantry::broker
