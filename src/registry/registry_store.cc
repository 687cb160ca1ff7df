#include "registry/registry_store.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "core/log.h"
#include "core/status.h"
#include "net/asio.h"
#include "registry/instance_json.h"

namespace gantry::registry {
namespace {

// "gantry/registry/<service>/<id>" -> id
std::string IdOfKey(const std::string& key) { return key.substr(key.rfind('/') + 1); }

void LogIfFailed(const char* what, const std::string& id, const absl::Status& status) {
  if (!status.ok())
    GANTRY_LOG(kError, "registry: cannot {} {}: {}", what, id, StatusMessage(status));
}

}  // namespace

RegistryStore::RegistryStore(store::Store& store, Registry& view, boost::asio::io_context* io)
    : store_(store), view_(view), io_(io) {}

RegistryStore::~RegistryStore() {
  *alive_ = false;
  if (watch_) store_.CancelWatch(watch_);
}

void RegistryStore::Start(store::LeaseId agent_lease, Done done) {
  store::KeyRange all{std::string(kRegistryPrefix), true};
  store_.Range(all, [this, agent_lease, all,
                     done = std::move(done)](absl::StatusOr<store::RangeResult> result) {
    if (!result.ok()) return done(result.status());
    store::TxnRequest stale;
    for (const store::KeyValue& kv : result->kvs) {
      auto instance = InstanceFromJson(kv.value);
      if (!instance.ok()) {
        GANTRY_LOG(kWarn, "registry: skipping {}: {}", kv.key, StatusMessage(instance.status()));
        continue;
      }
      if (instance->source == "gantry" && kv.lease != agent_lease) {
        stale.success.push_back(store::TxnOp::Delete({kv.key, false}));
        earlier_[instance->id] = std::move(*instance);
        continue;
      }
      if (instance->source == "api") {
        owned_[instance->id] =
            Owned{*instance, kv.lease, kv.key, kv.mod_revision, next_registration_++};
      }
      ShowPut(std::move(*instance), kv.mod_revision);
    }
    Follow(result->revision + 1);
    if (stale.success.empty()) return done(absl::OkStatus());
    GANTRY_LOG(kInfo, "registry: removing {} replicas of an earlier agent", stale.success.size());
    store_.Txn(std::move(stale),
               [done](const absl::StatusOr<store::TxnResult>& r) { done(r.status()); });
  });
}

void RegistryStore::Follow(store::Revision from) {
  watch_ = store_.Watch(
      {std::string(kRegistryPrefix), true}, from, [this](absl::StatusOr<store::Event> event) {
        if (!event.ok()) {
          GANTRY_LOG(kWarn, "registry: watch ended ({}); listing again",
                     StatusMessage(event.status()));
          watch_ = 0;
          return Relist();
        }
        if (event->type == store::Event::Type::kDelete) {
          OnDeleted(event->kv.key, event->kv.mod_revision);
          // Nothing older can follow a delete the watch delivered.
          std::string id = IdOfKey(event->kv.key);
          if (auto it = shown_.find(id); it != shown_.end() && it->second == event->kv.mod_revision)
            shown_.erase(it);
          return;
        }
        auto instance = InstanceFromJson(event->kv.value);
        if (instance.ok()) ShowPut(std::move(*instance), event->kv.mod_revision);
      });
}

void RegistryStore::Relist() {
  std::weak_ptr<bool> alive = alive_;
  store::KeyRange all{std::string(kRegistryPrefix), true};
  store_.Range(all, [this, alive](absl::StatusOr<store::RangeResult> result) {
    if (alive.expired()) return;
    if (!result.ok()) {
      GANTRY_LOG(kError, "registry: cannot list the instances again: {}",
                 StatusMessage(result.status()));
      if (!io_) return;
      auto timer = std::make_shared<net::asio::steady_timer>(*io_, std::chrono::seconds(1));
      timer->async_wait([this, alive, timer](boost::system::error_code error) {
        if (!error && !alive.expired()) Relist();
      });
      return;
    }
    std::set<std::string> listed;
    for (const store::KeyValue& kv : result->kvs) {
      auto instance = InstanceFromJson(kv.value);
      if (!instance.ok()) continue;
      listed.insert(instance->id);
      auto it = owned_.find(instance->id);
      if (it != owned_.end() && it->second.key == kv.key) {
        it->second.revision = std::max(it->second.revision, kv.mod_revision);
      }
      ShowPut(std::move(*instance), kv.mod_revision);
    }
    std::vector<std::string> gone;
    for (const auto& service : view_.services()) {
      for (const Instance* instance : view_.InstancesOf(service)) {
        // Not listed, and not written since the listing's revision either.
        if (!listed.count(instance->id) && shown_[instance->id] <= result->revision)
          gone.push_back(instance->id);
      }
    }
    for (const std::string& id : gone) {
      view_.Remove(id);
      shown_[id] = result->revision;
      auto it = owned_.find(id);
      // Written after the listing began: still on its way, not gone.
      if (it == owned_.end() || it->second.revision == 0 ||
          it->second.revision > result->revision) {
        continue;
      }
      owned_.erase(it);
      if (on_expired_) on_expired_(id);
    }
    Follow(result->revision + 1);
  });
}

// A delete removes the instance only if it is the one under that key now: an id re-registered
// under another service, or written again after the delete was queued, stays.
void RegistryStore::OnDeleted(const std::string& key, store::Revision revision) {
  std::string id = IdOfKey(key);
  ShowDelete(key, revision);
  auto it = owned_.find(id);
  if (it == owned_.end() || it->second.key != key || it->second.revision == 0 ||
      it->second.revision > revision) {
    return;
  }
  owned_.erase(it);
  if (on_expired_) on_expired_(id);
}

void RegistryStore::Register(Instance instance, store::LeaseId lease, Done done) {
  std::string id = instance.id;
  std::string key = InstanceKey(instance);
  Owned& owned = owned_[id];
  if (!owned.key.empty() && owned.key != key) {
    // Re-registered under another service: the old key goes.
    QueueDelete(id, owned.key, [id](const absl::StatusOr<store::DeleteResult>& r) {
      LogIfFailed("remove the old key of", id, r.status());
    });
  }
  owned = Owned{std::move(instance), lease, key, 0, next_registration_++};
  QueuePut(id, std::move(done));
}

void RegistryStore::SetHealth(const std::string& id, Health health, const std::string& output) {
  auto it = owned_.find(id);
  if (it == owned_.end()) return;  // deregistered meanwhile
  Instance& instance = it->second.instance;
  if (instance.health != health) instance.health_changed_at = std::chrono::system_clock::now();
  instance.health = health;
  instance.ever_healthy = instance.ever_healthy || health == Health::kHealthy;
  instance.check_output = output;
  QueuePut(id,
           [id](const absl::Status& status) { LogIfFailed("record the health of", id, status); });
}

void RegistryStore::AfterWrites(const std::string& id, std::function<void()> then) {
  auto it = writes_.find(id);
  if (it == writes_.end()) return then();
  Writes& writes = it->second;
  (writes.waiting.empty() ? *writes.running : writes.waiting.back())
      .after.push_back(std::move(then));
}

void RegistryStore::QueuePut(const std::string& id, Done done) {
  Writes& writes = writes_[id];
  if (writes.waiting.empty() || writes.waiting.back().kind != Write::Kind::kPut) {
    writes.waiting.emplace_back();
  }
  writes.waiting.back().done.push_back(std::move(done));
  StartNext(id);
}

void RegistryStore::QueueDelete(
    const std::string& id, std::string key,
    std::function<void(const absl::StatusOr<store::DeleteResult>&)> deleted) {
  Write write;
  write.kind = Write::Kind::kDelete;
  write.key = std::move(key);
  write.deleted = std::move(deleted);
  writes_[id].waiting.push_back(std::move(write));
  StartNext(id);
}

void RegistryStore::StartNext(const std::string& id) {
  auto it = writes_.find(id);
  if (it == writes_.end() || it->second.running) return;
  if (it->second.waiting.empty()) {
    writes_.erase(it);
    return;
  }
  it->second.running = std::move(it->second.waiting.front());
  it->second.waiting.pop_front();
  if (it->second.running->kind == Write::Kind::kPut) return Put(id);
  store_.Delete(
      {it->second.running->key, false},
      [this, id](const absl::StatusOr<store::DeleteResult>& r) { Finish(id, r.status(), &r); });
}

void RegistryStore::Put(const std::string& id) {
  auto it = owned_.find(id);
  if (it == owned_.end()) {
    return Finish(id, absl::NotFoundError(fmt::format("instance {} was deregistered", id)),
                  nullptr);
  }
  const Owned& owned = it->second;
  store_.Put(owned.key, InstanceToJson(owned.instance), {owned.lease, std::nullopt},
             [this, written = owned.instance,
              registration = owned.registration](const absl::StatusOr<store::Revision>& r) mutable {
               std::string id = written.id;
               auto it = owned_.find(id);
               if (r.ok() && it != owned_.end() && it->second.registration == registration) {
                 it->second.revision = std::max(it->second.revision, *r);
                 ShowPut(std::move(written), *r);  // written means visible, whatever the backend
               }
               Finish(id, r.status(), nullptr);
             });
}

void RegistryStore::Finish(const std::string& id, const absl::Status& status,
                           const absl::StatusOr<store::DeleteResult>* deleted) {
  Writes& writes = writes_.at(id);
  Write done = std::move(*writes.running);
  writes.running.reset();
  StartNext(id);  // before the callbacks, which may queue more writes of `id`
  if (done.deleted) done.deleted(*deleted);
  for (auto& callback : done.done) callback(status);
  for (auto& then : done.after) then();
}

void RegistryStore::ShowPut(Instance instance, store::Revision revision) {
  store::Revision& shown = shown_[instance.id];
  if (revision <= shown) return;  // the view has this write or a newer one
  shown = revision;
  view_.Upsert(std::move(instance));
}

void RegistryStore::ShowDelete(const std::string& key, store::Revision revision) {
  std::string id = IdOfKey(key);
  store::Revision& shown = shown_[id];
  if (revision <= shown) return;
  shown = revision;
  // Only if it is the one under that key now: an id re-registered under another service stays.
  if (const Instance* current = view_.Find(id); current && InstanceKey(*current) == key) {
    view_.Remove(id);
  }
}

void RegistryStore::Deregister(const std::string& id, Done done) {
  auto it = owned_.find(id);
  if (it == owned_.end()) return done(absl::NotFoundError(fmt::format("no instance {}", id)));
  std::string key = it->second.key;
  owned_.erase(it);
  QueueDelete(
      id, key,
      [this, id, key, done = std::move(done)](const absl::StatusOr<store::DeleteResult>& r) {
        if (r.ok()) ShowDelete(key, r->revision);  // gone means gone from the view
        if (!r.ok()) {
          // Out of routing all the same; the store keeps a stale key that the next
          // agent start removes.
          LogIfFailed("deregister", id, r.status());
          view_.Remove(id);
        }
        done(r.status());
      });
}

}  // namespace gantry::registry
