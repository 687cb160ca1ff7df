// The time seam: domain code asks a Clock, tests drive a FakeClock. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>

namespace gantry {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;

  // The process-wide steady clock.
  static Clock& Real();
};

// A clock that moves only when told to.
class FakeClock final : public Clock {
 public:
  TimePoint Now() const override { return TimePoint(std::chrono::nanoseconds(now_ns_.load())); }
  void Advance(std::chrono::nanoseconds d) { now_ns_ += d.count(); }

 private:
  std::atomic<int64_t> now_ns_{1'000'000'000};  // not zero, so "never" stays distinguishable
};

}  // namespace gantry
