#include "orchestrator/backoff.h"

#include <sys/wait.h>

#include <algorithm>

namespace gantry::orchestrator {

void RestartBackoff::OnHealthy(Clock::TimePoint now) {
  if (!healthy_since_) healthy_since_ = now;
}

Duration RestartBackoff::OnExit(Clock::TimePoint now) {
  if (healthy_since_ && now - *healthy_since_ >= kResetAfter) failures_ = 0;
  healthy_since_.reset();
  Duration delay = kInitial;
  for (int i = 0; i < failures_ && delay < kMax; ++i) delay *= 2;
  ++failures_;
  return std::min(delay, kMax);
}

bool ShouldRestart(config::RestartPolicy policy, int wait_status) {
  switch (policy) {
    case config::RestartPolicy::kAlways:
      return true;
    case config::RestartPolicy::kNever:
      return false;
    case config::RestartPolicy::kOnFailure:
      return !(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0);
  }
  return false;
}

}  // namespace gantry::orchestrator
