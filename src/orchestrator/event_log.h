// What happened to the app, for `gantry events`: replica starts, restarts, exits (with the code
// or signal), stops, failures to start, scaling decisions, outlier ejections. A bounded ring
// (the newest kEventCapacity kept), each event numbered so that readers can ask for what came
// after the last one they saw (blocking reads park on the index).
// Control-plane thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

namespace gantry::orchestrator {

struct Event {
  uint64_t index = 0;  // 1, 2, ... in order
  std::chrono::system_clock::time_point time;
  std::string kind;  // started | restarted | exited | stopping | failed | scaled | ejected
  std::string service;
  std::string instance;  // "" for service-wide events (scaled)
  std::string message;
};

class EventLog {
 public:
  static constexpr size_t kEventCapacity = 10000;

  void Add(std::string kind, std::string service, std::string instance, std::string message);
  // Events with an index above `after`, oldest first (those the ring dropped are gone).
  std::vector<Event> Since(uint64_t after) const;
  uint64_t index() const { return next_index_ - 1; }  // the newest event's, 0 if none
  void OnAdd(std::function<void()> listener) { listeners_.push_back(std::move(listener)); }

 private:
  std::deque<Event> events_;
  uint64_t next_index_ = 1;
  std::vector<std::function<void()>> listeners_;
};

}  // namespace gantry::orchestrator
