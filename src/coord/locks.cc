#include "coord/locks.h"

#include <algorithm>

#include <fmt/format.h>

#include "net/asio.h"

namespace gantry::coord {

namespace {

// The acquisitions queued on a lock, oldest first.
std::vector<store::KeyValue> Queue(std::vector<store::KeyValue> kvs) {
  std::sort(kvs.begin(), kvs.end(), [](const store::KeyValue& a, const store::KeyValue& b) {
    return a.create_revision < b.create_revision;
  });
  return kvs;
}

}  // namespace

struct LockService::Acquisition {
  Acquisition(net::asio::io_context& io, std::string name, std::string prefix, Duration ttl,
              std::string value, store::Done<Held> done)
      : name(std::move(name)),
        prefix(std::move(prefix)),
        value(std::move(value)),
        ttl(ttl),
        done(std::move(done)),
        wait_timer(io),
        keepalive_timer(io) {}
  std::string name;
  std::string prefix;
  std::string value;
  std::string key;
  Duration ttl;
  store::Done<Held> done;
  store::LeaseId lease = 0;
  store::Revision token = 0;
  store::WatchId watch = 0;
  bool finished = false;
  Duration wait{};
  bool queued = false;                 // found behind another: the wait timer runs
  net::asio::steady_timer wait_timer;  // set to the end of the wait when asked
  net::asio::steady_timer keepalive_timer;
};

LockService::LockService(net::asio::io_context& io, store::Store& store, std::string key_prefix)
    : io_(io),
      store_(store),
      key_prefix_(std::move(key_prefix)),
      alive_(std::make_shared<bool>(true)) {}

LockService::~LockService() {
  *alive_ = false;
  for (auto& weak : waiting_) {
    if (auto acquisition = weak.lock(); acquisition && !acquisition->finished) {
      acquisition->finished = true;
      if (acquisition->watch) store_.CancelWatch(acquisition->watch);
      acquisition->wait_timer.cancel();
      acquisition->keepalive_timer.cancel();
      acquisition->done(absl::CancelledError("the agent is stopping"));
    }
  }
}

absl::Status LockService::CheckName(std::string_view name) {
  bool ok =
      !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
      });
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      fmt::format("a lock name is 1 to 128 letters, digits, '.', '_' or '-': \"{}\"", name));
}

std::function<void()> LockService::Acquire(const std::string& name, Duration ttl, Duration wait,
                                           std::string value, store::Done<Held> done) {
  if (absl::Status status = CheckName(name); !status.ok()) {
    done(status);
    return [] {};
  }
  auto acquisition = std::make_shared<Acquisition>(io_, name, Prefix(name), ttl, std::move(value),
                                                   std::move(done));
  waiting_.erase(std::remove_if(waiting_.begin(), waiting_.end(),
                                [](const auto& weak) { return weak.expired(); }),
                 waiting_.end());
  waiting_.push_back(acquisition);
  // The wait counts from now, but runs out only once the lock is found held: a lock that is
  // free is taken even with a wait of 0, however long the store takes to answer.
  acquisition->wait = wait;
  acquisition->wait_timer.expires_after(wait);
  std::weak_ptr<bool> alive = alive_;
  store_.GrantLease(ttl, [this, alive, acquisition](absl::StatusOr<store::LeaseGrant> grant) {
    if (alive.expired()) return;
    if (acquisition->finished) {  // given up before its lease came: the lease goes too
      if (grant.ok()) store_.RevokeLease(grant->id, [](absl::StatusOr<store::Revision>) {});
      return;
    }
    if (!grant.ok()) {
      acquisition->finished = true;
      return acquisition->done(grant.status());
    }
    acquisition->lease = grant->id;
    acquisition->key = acquisition->prefix + std::to_string(grant->id);
    store::PutOptions options;
    options.lease = grant->id;
    options.expect_mod_revision = 0;  // a new key: its create revision is the token
    store_.Put(acquisition->key, acquisition->value, options,
               [this, alive, acquisition](absl::StatusOr<store::Revision> revision) {
                 if (alive.expired() || acquisition->finished) return;
                 if (!revision.ok()) return GiveUp(acquisition, revision.status());
                 acquisition->token = *revision;
                 KeepAliveWhileWaiting(acquisition);
                 Check(acquisition);
               });
  });
  return [this, alive, weak = std::weak_ptr<Acquisition>(acquisition)] {
    auto acquisition = weak.lock();
    if (alive.expired() || !acquisition || acquisition->finished) return;
    GiveUp(acquisition, absl::CancelledError(fmt::format("the wait for lock \"{}\" was given up",
                                                         acquisition->name)));
  };
}

// Whether this acquisition is now the oldest; if not, wait for a key before it to go.
void LockService::Check(std::shared_ptr<Acquisition> acquisition) {
  std::weak_ptr<bool> alive = alive_;
  store_.Range({acquisition->prefix, true}, [this, alive, acquisition](
                                                absl::StatusOr<store::RangeResult> result) {
    if (alive.expired() || acquisition->finished) return;
    if (!result.ok()) return GiveUp(acquisition, result.status());
    std::vector<store::KeyValue> queue = Queue(std::move(result->kvs));
    auto mine = std::find_if(queue.begin(), queue.end(),
                             [&](const store::KeyValue& kv) { return kv.key == acquisition->key; });
    if (mine == queue.end()) {
      return GiveUp(acquisition,
                    absl::AbortedError(fmt::format("the lease of the wait for lock \"{}\" ended",
                                                   acquisition->name)));
    }
    if (mine == queue.begin()) {
      Finish(acquisition);
      return acquisition->done(Held{acquisition->token, acquisition->lease});
    }
    if (!acquisition->queued) {
      acquisition->queued = true;
      acquisition->wait_timer.async_wait(
          [this, alive, acquisition](boost::system::error_code error) {
            if (error || alive.expired() || acquisition->finished) return;
            GiveUp(acquisition, absl::DeadlineExceededError(fmt::format(
                                    "lock \"{}\" is held: not acquired within {}",
                                    acquisition->name, FormatDuration(acquisition->wait))));
          });
    }
    if (!acquisition->watch) Watch(acquisition, result->revision + 1);
  });
}

void LockService::Watch(std::shared_ptr<Acquisition> acquisition, store::Revision from) {
  std::weak_ptr<bool> alive = alive_;
  acquisition->watch = store_.Watch({acquisition->prefix, true}, from,
                                    [this, alive, acquisition](absl::StatusOr<store::Event> event) {
                                      if (alive.expired() || acquisition->finished) return;
                                      if (!event.ok()) {  // compacted under us: look again from now
                                        acquisition->watch = 0;
                                        return Check(acquisition);
                                      }
                                      if (event->type == store::Event::Type::kDelete)
                                        Check(acquisition);
                                    });
}

void LockService::KeepAliveWhileWaiting(std::shared_ptr<Acquisition> acquisition) {
  std::weak_ptr<bool> alive = alive_;
  acquisition->keepalive_timer.expires_after(std::max(acquisition->ttl / 3, Duration(100)));
  acquisition->keepalive_timer.async_wait(
      [this, alive, acquisition](boost::system::error_code error) {
        if (error || alive.expired() || acquisition->finished) return;
        store_.KeepAlive(acquisition->lease, [](absl::StatusOr<store::LeaseGrant>) {});
        KeepAliveWhileWaiting(acquisition);
      });
}

void LockService::Finish(const std::shared_ptr<Acquisition>& acquisition) {
  acquisition->finished = true;
  if (acquisition->watch) store_.CancelWatch(acquisition->watch);
  acquisition->watch = 0;
  acquisition->wait_timer.cancel();
  acquisition->keepalive_timer.cancel();
}

// Ends a failed acquisition, leaving nothing behind: its lease (and with it its key) goes.
// Answered once the lease (and with it the queued key) is gone, so that whoever hears of the
// failure finds the lock's queue without it.
void LockService::GiveUp(std::shared_ptr<Acquisition> acquisition, absl::Status why) {
  Finish(acquisition);
  if (!acquisition->lease) return acquisition->done(std::move(why));
  store_.RevokeLease(acquisition->lease,
                     [acquisition, why = std::move(why)](absl::StatusOr<store::Revision>) mutable {
                       acquisition->done(std::move(why));
                     });
}

void LockService::Release(const std::string& name, store::Revision token,
                          store::Done<store::Revision> done) {
  if (absl::Status status = CheckName(name); !status.ok()) return done(status);
  std::weak_ptr<bool> alive = alive_;
  store_.Range({Prefix(name), true}, [this, alive, name, token, done = std::move(done)](
                                         absl::StatusOr<store::RangeResult> result) mutable {
    if (alive.expired()) return;
    if (!result.ok()) return done(result.status());
    for (const store::KeyValue& kv : result->kvs) {
      if (kv.create_revision == token) return store_.RevokeLease(kv.lease, std::move(done));
    }
    done(absl::NotFoundError(
        fmt::format("lock \"{}\" has no holder or waiter with token {}", name, token)));
  });
}

LockService::State LockService::StateOf(std::vector<store::KeyValue> kvs,
                                        store::Revision revision) {
  std::vector<store::KeyValue> queue = Queue(std::move(kvs));
  State state;
  state.revision = revision;
  if (!queue.empty()) {
    state.holder = Held{queue.front().create_revision, queue.front().lease};
    state.value = queue.front().value;
    state.waiters = queue.size() - 1;
  }
  return state;
}

void LockService::Describe(const std::string& name, store::Done<State> done) {
  if (absl::Status status = CheckName(name); !status.ok()) return done(status);
  store_.Range({Prefix(name), true},
               [done = std::move(done)](absl::StatusOr<store::RangeResult> result) {
                 if (!result.ok()) return done(result.status());
                 done(StateOf(std::move(result->kvs), result->revision));
               });
}

void LockService::List(store::Done<std::vector<std::pair<std::string, State>>> done) {
  store_.Range({key_prefix_, true},
               [this, done = std::move(done)](absl::StatusOr<store::RangeResult> result) {
                 if (!result.ok()) return done(result.status());
                 // Keys are <prefix><name>/<lease>, in key order: each lock's acquisitions are
                 // together.
                 std::vector<std::pair<std::string, State>> locks;
                 std::vector<store::KeyValue> group;
                 std::string name;
                 auto flush = [&] {
                   if (!group.empty())
                     locks.emplace_back(name, StateOf(std::move(group), result->revision));
                   group.clear();
                 };
                 for (store::KeyValue& kv : result->kvs) {
                   std::string_view rest = std::string_view(kv.key).substr(key_prefix_.size());
                   std::string_view kv_name = rest.substr(0, rest.find('/'));
                   if (kv_name != name) {
                     flush();
                     name = kv_name;
                   }
                   group.push_back(std::move(kv));
                 }
                 flush();
                 done(std::move(locks));
               });
}

void LockService::Observe(const std::string& name, store::Revision after, Duration wait,
                          store::Done<State> done) {
  if (absl::Status status = CheckName(name); !status.ok()) return done(status);
  // One answer, from whichever comes first: a change after `after`, or the end of the wait.
  struct Poll {
    explicit Poll(net::asio::io_context& io) : timer(io) {}
    net::asio::steady_timer timer;
    store::WatchId watch = 0;
    bool answered = false;
  };
  auto poll = std::make_shared<Poll>(io_);
  std::weak_ptr<bool> alive = alive_;
  auto answer = [this, alive, poll, name, done = std::move(done)]() mutable {
    if (alive.expired() || poll->answered) return;
    poll->answered = true;
    poll->timer.cancel();
    if (poll->watch) store_.CancelWatch(poll->watch);
    Describe(name, std::move(done));
  };
  auto shared_answer = std::make_shared<decltype(answer)>(std::move(answer));
  poll->timer.expires_after(wait);
  poll->timer.async_wait([shared_answer](boost::system::error_code error) {
    if (!error) (*shared_answer)();
  });
  store::WatchId watch =
      store_.Watch({Prefix(name), true}, after + 1,
                   [shared_answer](absl::StatusOr<store::Event>) { (*shared_answer)(); });
  // History past `after` may have answered already, from inside Watch.
  if (poll->answered) {
    store_.CancelWatch(watch);
  } else {
    poll->watch = watch;
  }
}

}  // namespace gantry::coord
