// Keeps a store's history from growing for ever, as kube-apiserver does for etcd (which does
// not compact by default): every interval, the history is compacted at the revision the store
// had one interval earlier. So a watch may fall behind by up to one interval and still resume.
// On the store's loop; a failed read or compaction is logged and tried at the next tick.
#pragma once

#include <memory>

#include "core/duration.h"
#include "store/store.h"

namespace boost::asio {
class io_context;
}

namespace gantry::store {

class Compactor {
 public:
  Compactor(boost::asio::io_context& io, Store& store, Duration interval);
  ~Compactor();

  Revision compacted() const { return compacted_; }  // the last compaction's revision, or 0

 private:
  struct Timer;
  void Arm();
  void Tick();

  Store& store_;
  Duration interval_;
  std::unique_ptr<Timer> timer_;
  Revision seen_ = 0;  // the revision read at the previous tick
  Revision compacted_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gantry::store
