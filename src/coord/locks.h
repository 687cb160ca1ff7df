// Distributed locks on the store, by etcd's recipe, so they work the same on the embedded store
// and on etcd: an acquisition is a key `gantry/locks/<name>/<lease>` put with a lease of its
// own; the key with the lowest create revision holds the lock, the others wait in that order
// (FIFO) for the keys before them to go. The holder's create revision is its fencing token:
// revisions only grow, so tokens strictly increase per lock, and a resource that remembers the
// highest token it saw can refuse a stale holder (one paused past its lease). The lock is
// released by deleting the key (revoking its lease), or lost when the lease ends.
// Control-plane thread only (the store's).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "core/duration.h"
#include "store/store.h"

namespace boost::asio {
class io_context;
}

namespace gantry::coord {

class LockService {
 public:
  // Locks live under `key_prefix` ("gantry/locks/"; leader elections use their own).
  LockService(boost::asio::io_context& io, store::Store& store,
              std::string key_prefix = "gantry/locks/");
  ~LockService();  // acquisitions still waiting fail (Cancelled)

  struct Held {
    store::Revision token = 0;  // the fencing token
    store::LeaseId lease = 0;   // keep it alive (ttl) to keep the lock
  };

  // Takes the lock `name` with a new lease of `ttl`, waiting at most `wait` for the holders
  // before. DeadlineExceeded when the wait ran out (nothing is left behind), Aborted when the
  // lease ended while waiting, InvalidArgument for a bad name or TTL. The lease is kept alive
  // while waiting; once held, keeping it alive is the caller's.
  // `value` is stored with the acquisition (a leader's identity, for observers).
  // Returns what gives the acquisition up while it waits (its caller went away): it then leaves
  // nothing behind and `done` gets Cancelled; afterwards it does nothing.
  std::function<void()> Acquire(const std::string& name, Duration ttl, Duration wait,
                                std::string value, store::Done<Held> done);
  // Gives up the lock (or a place in its queue) taken with `token`: NotFound when no
  // acquisition of `name` has that token (released already, or lost with its lease).
  void Release(const std::string& name, store::Revision token, store::Done<store::Revision> done);

  struct State {
    std::optional<Held> holder;
    std::string value;  // the holder's
    size_t waiters = 0;
    store::Revision revision = 0;  // the store's when read (an index for Observe)
  };
  void Describe(const std::string& name, store::Done<State> done);
  // Every lock with a holder, by name.
  void List(store::Done<std::vector<std::pair<std::string, State>>> done);
  // Describe, once anything of the lock changed after revision `after` (a holder or waiter
  // came or went), or when `wait` runs out: a long poll for observers.
  void Observe(const std::string& name, store::Revision after, Duration wait,
               store::Done<State> done);

  // Names are 1-128 of [A-Za-z0-9._-].
  static absl::Status CheckName(std::string_view name);

 private:
  static State StateOf(std::vector<store::KeyValue> queue, store::Revision revision);
  struct Acquisition;
  void Check(std::shared_ptr<Acquisition> acquisition);
  void Watch(std::shared_ptr<Acquisition> acquisition, store::Revision from);
  void KeepAliveWhileWaiting(std::shared_ptr<Acquisition> acquisition);
  void GiveUp(std::shared_ptr<Acquisition> acquisition, absl::Status why);
  void Finish(const std::shared_ptr<Acquisition>& acquisition);

  std::string Prefix(const std::string& name) const { return key_prefix_ + name + "/"; }

  boost::asio::io_context& io_;
  store::Store& store_;
  std::string key_prefix_;
  std::shared_ptr<bool> alive_;
  std::vector<std::weak_ptr<Acquisition>> waiting_;  // to fail them if we go first
};

}  // namespace gantry::coord
