// Timers for one event loop: a wheel of 1 ms slots with lazy deadlines. Re-arming a timer
// later than it was (the common case: an idle timeout pushed back by every request) only
// stores the new deadline; the timer is moved when its old slot comes up. Deadlines past the
// wheel's span wait in its last slot and are looked at again then. Arm and Cancel are O(1).
// Single-threaded: owned by one loop. Driven by Advance(now) with the loop's clock, so tests
// drive it with plain numbers.
#pragma once

#include <cstdint>

namespace gantry::net {

class Timer;

class TimerHandler {
 public:
  virtual void OnTimer(Timer& timer) = 0;

 protected:
  ~TimerHandler() = default;
};

// Embedded in whatever it times; must be cancelled (or its wheel gone) before it is destroyed.
class Timer {
 public:
  explicit Timer(TimerHandler* handler) : handler_(handler) {}
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  bool armed() const { return next_ != nullptr; }
  int64_t deadline() const { return deadline_; }

 private:
  friend class TimerWheel;
  Timer() : handler_(nullptr) {}  // a list sentinel
  void Unlink();

  TimerHandler* handler_;
  int64_t deadline_ = 0;   // ms
  int64_t slot_time_ = 0;  // the tick of the slot it sits in
  Timer* prev_ = nullptr;
  Timer* next_ = nullptr;
};

class TimerWheel {
 public:
  static constexpr int kSlots = 1024;  // 1 ms each: about one second of span

  explicit TimerWheel(int64_t now_ms);
  ~TimerWheel();
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // (Re)arms `timer` to fire at `deadline_ms` (or at the next tick if that has passed).
  void Arm(Timer& timer, int64_t deadline_ms);
  void Cancel(Timer& timer) { timer.Unlink(); }

  // Fires, in no particular order, every timer whose deadline is at or before `now_ms`.
  // Handlers may arm and cancel any timer, including their own.
  void Advance(int64_t now_ms);

  // Milliseconds from `now_ms` until the next slot that holds timers (0 if due), -1 if none.
  int64_t MsUntilNext(int64_t now_ms) const;

 private:
  void Insert(Timer& timer);
  int SlotOf(int64_t tick) const { return static_cast<int>(tick & (kSlots - 1)); }

  Timer heads_[kSlots];                  // sentinels of circular lists
  uint64_t occupied_[kSlots / 64] = {};  // may have stale bits: cleared when a slot is found empty
  int64_t current_;                      // ticks up to here have been processed
};

}  // namespace gantry::net
