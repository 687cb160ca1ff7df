// Model-based test: random operation sequences run against MvccIndex and against a reference
// model written the simplest way (an event log; the state is whatever replaying it gives).
// After every step the two must agree on the revision and on every key; every watch must have
// received exactly the model's events for its range from its start revision, in order.
#include <map>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "store/mvcc_index.h"

namespace gantry::store {
namespace {

class Model {
 public:
  Revision revision = 1;
  Revision compacted = 0;
  std::vector<Event> log;
  std::set<LeaseId> leases;

  std::map<std::string, KeyValue> State() const {
    std::map<std::string, KeyValue> state;
    for (const Event& e : log) {
      if (e.type == Event::Type::kPut) {
        state[e.kv.key] = e.kv;
      } else {
        state.erase(e.kv.key);
      }
    }
    return state;
  }

  // The writes of one transaction: all at the next revision.
  void Write(
      const std::vector<std::pair<std::string, std::optional<std::pair<std::string, LeaseId>>>>&
          writes) {
    std::map<std::string, KeyValue> state = State();
    std::vector<Event> events;
    for (const auto& [key, put] : writes) {
      if (put) {
        KeyValue kv;
        if (auto it = state.find(key); it != state.end()) {
          kv = it->second;
        } else {
          kv.key = key;
          kv.create_revision = revision + 1;
        }
        kv.value = put->first;
        kv.lease = put->second;
        kv.mod_revision = revision + 1;
        kv.version += 1;
        state[key] = kv;
        events.push_back({Event::Type::kPut, kv});
      } else if (state.erase(key)) {
        KeyValue gone;
        gone.key = key;
        gone.mod_revision = revision + 1;
        events.push_back({Event::Type::kDelete, gone});
      }
    }
    if (events.empty()) return;
    ++revision;
    log.insert(log.end(), events.begin(), events.end());
  }

  std::vector<std::string> KeysIn(const KeyRange& range) const {
    std::vector<std::string> keys;
    for (const auto& [key, kv] : State()) {
      if (range.Contains(key)) keys.push_back(key);
    }
    return keys;
  }
};

struct WatchRecord {
  KeyRange range;
  Revision from = 0;  // effective start revision
  std::vector<Event> seen;
};

const std::vector<std::string> kKeys = {"a", "ab", "abc", "b", "ba", "c"};
const std::vector<KeyRange> kRanges = {
    {"a", false}, {"a", true}, {"b", true}, {"", true}, {"c", false}};

void RunSequence(uint32_t seed) {
  std::mt19937 rng(seed);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  FakeClock clock;
  MvccIndex index;
  Model model;
  std::vector<std::unique_ptr<WatchRecord>> watches;

  for (int step = 0; step < 200; ++step) {
    SCOPED_TRACE(testing::Message() << "seed " << seed << " step " << step);
    switch (pick(8)) {
      case 0:
      case 1: {  // put, sometimes under a lease
        std::string key = kKeys[pick(kKeys.size())];
        std::string value = "v" + std::to_string(step);
        LeaseId lease = 0;
        if (!model.leases.empty() && pick(3) == 0) {
          lease = *std::next(model.leases.begin(), static_cast<long>(pick(model.leases.size())));
        }
        ASSERT_TRUE(index.Put(key, value, lease).ok());
        model.Write({{key, std::make_pair(value, lease)}});
        break;
      }
      case 2: {  // delete a key or a range
        const KeyRange& range = kRanges[pick(kRanges.size())];
        int64_t deleted = index.Delete(range);
        std::vector<std::string> keys = model.KeysIn(range);
        ASSERT_EQ(deleted, static_cast<int64_t>(keys.size()));
        std::vector<std::pair<std::string, std::optional<std::pair<std::string, LeaseId>>>> writes;
        writes.reserve(keys.size());
        for (const auto& key : keys) writes.emplace_back(key, std::nullopt);
        model.Write(writes);
        break;
      }
      case 3: {  // txn: if key's mod revision is what we guess, put one key and delete another
        std::string key = kKeys[pick(kKeys.size())];
        std::string other = kKeys[pick(kKeys.size())];
        if (other == key) other = "zz";
        auto state = model.State();
        Revision actual = state.count(key) ? state[key].mod_revision : 0;
        Revision guess = pick(2) ? actual : actual + 1;
        Compare compare{key, Compare::Target::kModRevision, Compare::Op::kEqual, guess, ""};
        TxnOp put = TxnOp::Put(key, "t" + std::to_string(step));
        TxnOp del = TxnOp::Delete({other, false});
        TxnOp get = TxnOp::Get({key, false});
        auto result = index.Txn({compare}, {put, del}, {get});
        ASSERT_TRUE(result.ok()) << result.status();
        ASSERT_EQ(result->succeeded, guess == actual);
        if (result->succeeded) {
          model.Write({{key, std::make_pair(put.value, LeaseId{0})}, {other, std::nullopt}});
        } else {
          ASSERT_EQ(result->results[0].kvs.size(), state.count(key));
        }
        ASSERT_EQ(result->revision, model.revision);
        break;
      }
      case 4: {  // grant, or revoke / expire a lease
        if (model.leases.empty() || pick(2) == 0) {
          auto id = index.GrantLease(std::chrono::seconds(1 + pick(5)), clock.Now());
          ASSERT_TRUE(id.ok());
          model.leases.insert(*id);
        } else {
          LeaseId lease =
              *std::next(model.leases.begin(), static_cast<long>(pick(model.leases.size())));
          ASSERT_TRUE(index.RevokeLease(lease).ok());
          model.leases.erase(lease);
          std::vector<std::pair<std::string, std::optional<std::pair<std::string, LeaseId>>>>
              writes;
          for (const auto& [key, kv] : model.State()) {
            if (kv.lease == lease) writes.push_back({key, std::nullopt});
          }
          model.Write(writes);
        }
        break;
      }
      case 5: {  // a watch from a random revision
        auto record = std::make_unique<WatchRecord>();
        record->range = kRanges[pick(kRanges.size())];
        Revision from = static_cast<Revision>(pick(static_cast<size_t>(model.revision) + 2));
        WatchRecord* raw = record.get();
        auto id =
            index.Watch(record->range, from, [raw](const Event& e) { raw->seen.push_back(e); });
        if (from != 0 && from <= model.compacted) {
          ASSERT_EQ(id.status().code(), absl::StatusCode::kOutOfRange);
          break;
        }
        ASSERT_TRUE(id.ok());
        record->from = from == 0 ? model.revision + 1 : from;
        watches.push_back(std::move(record));
        break;
      }
      case 6: {  // compact somewhere in the past
        if (model.revision > model.compacted + 1 && pick(3) == 0) {
          Revision at =
              model.compacted + 1 +
              static_cast<Revision>(pick(static_cast<size_t>(model.revision - model.compacted)));
          ASSERT_TRUE(index.Compact(at).ok());
          model.compacted = at;
        }
        break;
      }
      case 7: {  // a conditional put that may fail
        std::string key = kKeys[pick(kKeys.size())];
        auto state = model.State();
        Revision actual = state.count(key) ? state[key].mod_revision : 0;
        Revision expect = pick(2) ? actual : actual + 7;
        auto result = index.Put(key, "c", 0, expect);
        ASSERT_EQ(result.ok(), expect == actual);
        if (result.ok()) model.Write({{key, std::make_pair(std::string("c"), LeaseId{0})}});
        break;
      }
    }
    ASSERT_EQ(index.revision(), model.revision);
    std::vector<KeyValue> expected;
    for (const auto& [key, kv] : model.State()) expected.push_back(kv);
    ASSERT_EQ(index.Range({"", true}), expected);
  }
  for (const auto& watch : watches) {
    std::vector<Event> expected;
    for (const Event& e : model.log) {
      if (e.kv.mod_revision >= watch->from && watch->range.Contains(e.kv.key))
        expected.push_back(e);
    }
    ASSERT_EQ(watch->seen, expected) << "seed " << seed << ", watch of " << watch->range.key
                                     << (watch->range.prefix ? "*" : "") << " from " << watch->from;
  }
}

TEST(MvccModel, RandomSequencesAgreeWithTheReferenceModel) {
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    RunSequence(seed);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace gantry::store
