#include "core/clock.h"

namespace gantry {
namespace {
class RealClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
};
}  // namespace

Clock& Clock::Real() {
  static RealClock clock;
  return clock;
}

}  // namespace gantry
