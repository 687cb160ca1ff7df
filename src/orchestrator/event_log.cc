#include "orchestrator/event_log.h"

namespace gantry::orchestrator {

void EventLog::Add(std::string kind, std::string service, std::string instance,
                   std::string message) {
  Event event;
  event.index = next_index_++;
  event.time = std::chrono::system_clock::now();
  event.kind = std::move(kind);
  event.service = std::move(service);
  event.instance = std::move(instance);
  event.message = std::move(message);
  events_.push_back(std::move(event));
  if (events_.size() > kEventCapacity) events_.pop_front();
  for (const auto& listener : listeners_) listener();
}

std::vector<Event> EventLog::Since(uint64_t after) const {
  std::vector<Event> out;
  for (auto it = events_.rbegin(); it != events_.rend() && it->index > after; ++it) {
    out.push_back(*it);
  }
  return {out.rbegin(), out.rend()};
}

}  // namespace gantry::orchestrator
