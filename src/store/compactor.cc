#include "store/compactor.h"

#include "core/log.h"
#include "core/status.h"
#include "net/asio.h"

namespace gantry::store {

struct Compactor::Timer {
  explicit Timer(net::asio::io_context& io) : timer(io) {}
  net::asio::steady_timer timer;
};

Compactor::Compactor(net::asio::io_context& io, Store& store, Duration interval)
    : store_(store), interval_(interval), timer_(std::make_unique<Timer>(io)) {
  Arm();
}

Compactor::~Compactor() {
  *alive_ = false;
  timer_->timer.cancel();
}

void Compactor::Arm() {
  timer_->timer.expires_after(interval_);
  timer_->timer.async_wait(
      [this, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code error) {
        if (error || alive.expired()) return;
        Tick();
        Arm();
      });
}

void Compactor::Tick() {
  std::weak_ptr<bool> alive = alive_;
  // The revision is in every answer: a read of a key nobody writes costs next to nothing.
  store_.Range({"gantry/compaction", false}, [this, alive](absl::StatusOr<RangeResult> result) {
    if (alive.expired()) return;
    if (!result.ok()) {
      GANTRY_LOG(kWarn, "store: cannot read the revision to compact at: {}",
                 StatusMessage(result.status()));
      return;
    }
    Revision target = seen_;
    seen_ = result->revision;
    if (target <= compacted_) return;
    store_.Compact(target, [this, alive, target](absl::StatusOr<Revision> done) {
      if (alive.expired()) return;
      // OutOfRange: compacted past it already (by someone else), which is as good.
      if (!done.ok() && !absl::IsOutOfRange(done.status())) {
        GANTRY_LOG(kWarn, "store: cannot compact at {}: {}", target, StatusMessage(done.status()));
        return;
      }
      compacted_ = target;
      GANTRY_LOG(kDebug, "store: history compacted at revision {}", target);
    });
  });
}

}  // namespace gantry::store
