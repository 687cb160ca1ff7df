#include "net/timer_wheel.h"

namespace gantry::net {

Timer::~Timer() { Unlink(); }

void Timer::Unlink() {
  if (!next_) return;
  prev_->next_ = next_;
  next_->prev_ = prev_;
  prev_ = next_ = nullptr;
}

TimerWheel::TimerWheel(int64_t now_ms) : current_(now_ms) {
  for (Timer& head : heads_) head.prev_ = head.next_ = &head;
}

TimerWheel::~TimerWheel() {
  // Timers still armed are detached so that their own destruction finds no list.
  for (Timer& head : heads_) {
    while (head.next_ != &head) head.next_->Unlink();
    head.prev_ = head.next_ = nullptr;
  }
}

void TimerWheel::Arm(Timer& timer, int64_t deadline_ms) {
  if (timer.armed() && deadline_ms >= timer.slot_time_) {
    timer.deadline_ = deadline_ms;  // lazy: looked at again when its slot comes up
    return;
  }
  timer.Unlink();
  timer.deadline_ = deadline_ms;
  Insert(timer);
}

void TimerWheel::Insert(Timer& timer) {
  int64_t tick = timer.deadline_;
  if (tick <= current_) tick = current_ + 1;
  if (tick > current_ + kSlots - 1) tick = current_ + kSlots - 1;
  timer.slot_time_ = tick;
  int slot = SlotOf(tick);
  Timer& head = heads_[slot];
  timer.next_ = &head;
  timer.prev_ = head.prev_;
  head.prev_->next_ = &timer;
  head.prev_ = &timer;
  occupied_[slot / 64] |= uint64_t{1} << (slot % 64);
}

void TimerWheel::Advance(int64_t now_ms) {
  while (current_ < now_ms) {
    // Jump straight to the next occupied slot within reach.
    int64_t until = MsUntilNext(current_);
    if (until < 0 || current_ + until > now_ms) {
      current_ = now_ms;
      return;
    }
    int64_t tick = current_ + (until == 0 ? 1 : until);
    current_ = tick;
    int slot = SlotOf(tick);
    Timer& head = heads_[slot];
    occupied_[slot / 64] &= ~(uint64_t{1} << (slot % 64));
    if (head.next_ == &head) continue;
    // Detach the slot's list so that handlers arming timers never touch it while it is walked.
    Timer pending;
    pending.next_ = head.next_;
    pending.prev_ = head.prev_;
    pending.next_->prev_ = &pending;
    pending.prev_->next_ = &pending;
    head.next_ = head.prev_ = &head;
    while (pending.next_ != &pending) {
      Timer* timer = pending.next_;
      timer->Unlink();
      if (timer->deadline_ <= now_ms) {
        timer->handler_->OnTimer(*timer);
      } else {
        Insert(*timer);
      }
    }
    pending.prev_ = pending.next_ = nullptr;
  }
}

int64_t TimerWheel::MsUntilNext(int64_t now_ms) const {
  // Scan the occupancy bitmap from the slot after `current_`, one word at a time.
  int64_t base = current_ + 1;
  for (int64_t offset = 0; offset < kSlots;) {
    int slot = SlotOf(base + offset);
    uint64_t word = occupied_[slot / 64] >> (slot % 64);
    if (word == 0) {
      offset += 64 - slot % 64;
      continue;
    }
    int64_t tick = base + offset + __builtin_ctzll(word);
    if (tick >= base + kSlots) break;
    int64_t wait = tick - now_ms;
    return wait > 0 ? wait : 0;
  }
  return -1;
}

}  // namespace gantry::net
