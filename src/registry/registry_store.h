// The registry on the store. Every instance is a key, "gantry/registry/<service>/<id>", whose
// value is the instance as JSON (instance_json.h), attached to a lease: the agent's own lease
// for the replicas it runs (if the agent dies, they go), the instance's own lease for one a
// client registered with a ttl check (if its heartbeats stop for long, it goes).
//
// RegistryStore keeps the in-memory Registry (what readers use) in step with those keys through
// a watch, and writes the instances this agent owns. A write is in the Registry by the time its
// callback runs, on every backend: the answer itself updates the view (on etcd the watch event
// comes later, and is then skipped as not newer).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "registry/registry.h"
#include "store/store.h"

namespace boost::asio {
class io_context;
}

namespace gantry::registry {

class RegistryStore {
 public:
  using Done = std::function<void(absl::Status)>;

  // `io`: for retrying a failed re-list (see Relist) after a pause; null: no retry (tests).
  RegistryStore(store::Store& store, Registry& view, boost::asio::io_context* io = nullptr);
  ~RegistryStore();

  // Loads every instance into the view and follows changes. Replicas left by an earlier agent
  // (source "gantry", another lease) died with it and are deleted; instances registered through
  // the API are this agent's again (see owned()).
  void Start(store::LeaseId agent_lease, Done done);

  // Writes an instance this agent owns (new, or replacing the one with its id).
  void Register(Instance instance, store::LeaseId lease, Done done);
  // Records a health change of an owned instance (the time is now, on the wall clock).
  void SetHealth(const std::string& id, Health health, const std::string& output);
  // Runs `then` once every write of `id` started so far has been answered (at once if none):
  // for an answer that must not come before the health it reports is recorded.
  void AfterWrites(const std::string& id, std::function<void()> then);
  // Deletes an owned instance; `done` runs once it is gone from the store and the view.
  void Deregister(const std::string& id, Done done);

  struct Owned {
    Instance instance;
    store::LeaseId lease = 0;
    std::string key;
    store::Revision revision = 0;  // of its last applied write; 0 while the first is on its way
    // Which registration of the id this is: a write of an earlier one (its replica died and
    // the id was registered again meanwhile) must not stamp its revision on this one.
    uint64_t registration = 0;
  };
  const std::map<std::string, Owned>& owned() const { return owned_; }
  // Whether a write of some instance is still on its way (queued, running or to be retried).
  bool writing() const { return !writes_.empty(); }
  // A replica an earlier agent had registered (Start deleted it), for adoption; null if none.
  const Instance* Earlier(const std::string& id) const {
    auto it = earlier_.find(id);
    return it == earlier_.end() ? nullptr : &it->second;
  }

  // Called when an owned instance's key goes without Deregister (its lease ran out); a delete
  // older than the instance's latest write (a re-registration) is not one.
  void OnExpired(std::function<void(const std::string& id)> callback) {
    on_expired_ = std::move(callback);
  }

 private:
  void Follow(store::Revision from);
  // The watch ended (its revision was compacted: what happened since is unknown, as after a
  // long etcd outage): list every instance again at one revision, make the view that, and
  // follow on from there. An owned instance whose key went meanwhile has expired.
  void Relist();
  void OnDeleted(const std::string& key, store::Revision revision);

  // The writes of one id reach the store one at a time, in the order they were made: two calls
  // on their way at once may be applied in either order on etcd (each is its own gRPC call),
  // and the older health, or a put after the delete, would be what stays. Puts waiting behind
  // another write become one, of the instance as it is when it goes.
  struct Write {
    enum class Kind { kPut, kDelete } kind = Kind::kPut;
    std::string key;                                                          // kDelete
    std::function<void(const absl::StatusOr<store::DeleteResult>&)> deleted;  // kDelete
    std::vector<Done> done;                                                   // kPut
    std::vector<std::function<void()>> after;                                 // AfterWrites
  };
  struct Writes {
    std::optional<Write> running;
    std::deque<Write> waiting;
  };
  void QueuePut(const std::string& id, Done done);
  void QueueDelete(const std::string& id, std::string key,
                   std::function<void(const absl::StatusOr<store::DeleteResult>&)> deleted);
  void StartNext(const std::string& id);
  void Put(const std::string& id);
  // The running write of `id` was answered: its callbacks run, and the next write goes.
  void Finish(const std::string& id, const absl::Status& status,
              const absl::StatusOr<store::DeleteResult>* deleted);
  // The view shows, per id, the newest write known: this agent's own, as soon as the store
  // answered it (on etcd the watch event comes later), and the watch's, unless older.
  void ShowPut(Instance instance, store::Revision revision);
  void ShowDelete(const std::string& key, store::Revision revision);

  store::Store& store_;
  Registry& view_;
  store::WatchId watch_ = 0;
  std::map<std::string, Owned> owned_;
  std::map<std::string, store::Revision> shown_;  // id -> revision of what the view shows
  std::map<std::string, Writes> writes_;          // ids with writes not answered yet
  uint64_t next_registration_ = 1;
  std::map<std::string, Instance> earlier_;
  std::function<void(const std::string& id)> on_expired_;
  boost::asio::io_context* io_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for a pending retry
};

}  // namespace gantry::registry
