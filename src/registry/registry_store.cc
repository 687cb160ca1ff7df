#include "registry/registry_store.h"

#include <fmt/format.h>

#include "core/log.h"
#include "core/status.h"
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

RegistryStore::RegistryStore(store::Store& store, Registry& view) : store_(store), view_(view) {}

RegistryStore::~RegistryStore() {
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
        continue;
      }
      if (instance->source == "api") owned_[instance->id] = Owned{*instance, kv.lease};
      view_.Upsert(std::move(*instance));
    }
    Follow(result->revision + 1);
    if (stale.success.empty()) return done(absl::OkStatus());
    GANTRY_LOG(kInfo, "registry: removing {} replicas of an earlier agent", stale.success.size());
    store_.Txn(std::move(stale), [done](absl::StatusOr<store::TxnResult> r) { done(r.status()); });
  });
}

void RegistryStore::Follow(store::Revision from) {
  watch_ = store_.Watch(
      {std::string(kRegistryPrefix), true}, from, [this](absl::StatusOr<store::Event> event) {
        if (!event.ok()) {
          // Only a compaction past `from` can end it; the agent reads on.
          GANTRY_LOG(kError, "registry: watch ended: {}", StatusMessage(event.status()));
          return;
        }
        if (event->type == store::Event::Type::kDelete) {
          std::string id = IdOfKey(event->kv.key);
          view_.Remove(id);
          if (owned_.erase(id) && on_expired_) on_expired_(id);
          return;
        }
        auto instance = InstanceFromJson(event->kv.value);
        if (instance.ok()) view_.Upsert(std::move(*instance));
      });
}

void RegistryStore::Register(Instance instance, store::LeaseId lease, Done done) {
  std::string id = instance.id;
  Owned& owned = owned_[id];
  owned = Owned{std::move(instance), lease};
  Write(owned, std::move(done));
}

void RegistryStore::SetHealth(const std::string& id, Health health, const std::string& output) {
  auto it = owned_.find(id);
  if (it == owned_.end()) return;  // deregistered meanwhile
  Instance& instance = it->second.instance;
  if (instance.health != health) instance.health_changed_at = std::chrono::system_clock::now();
  instance.health = health;
  instance.check_output = output;
  Write(it->second, [id](absl::Status status) { LogIfFailed("record the health of", id, status); });
}

void RegistryStore::Write(const Owned& owned, Done done) {
  store_.Put(InstanceKey(owned.instance), InstanceToJson(owned.instance),
             {owned.lease, std::nullopt},
             [done = std::move(done)](absl::StatusOr<store::Revision> r) { done(r.status()); });
}

void RegistryStore::Deregister(const std::string& id, Done done) {
  auto it = owned_.find(id);
  if (it == owned_.end()) return done(absl::NotFoundError(fmt::format("no instance {}", id)));
  std::string key = InstanceKey(it->second.instance);
  owned_.erase(it);
  store_.Delete({key, false},
                [this, id, done = std::move(done)](absl::StatusOr<store::DeleteResult> r) {
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
