#include "api/kv_api.h"

#include <charconv>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "api/json_http.h"
#include "core/base64.h"
#include "core/status.h"
#include "core/strings.h"
#include "net/asio.h"

namespace gantry::api {
namespace json = boost::json;
namespace {

json::object KeyValueJson(const store::KeyValue& kv) {
  return {{"key", kv.key},
          {"value", Base64Encode(kv.value)},
          {"create_revision", kv.create_revision},
          {"mod_revision", kv.mod_revision},
          {"version", kv.version},
          {"lease", std::to_string(kv.lease)}};
}

json::object EventJson(const store::Event& event) {
  if (event.type == store::Event::Type::kDelete) {
    return {{"type", "delete"}, {"key", event.kv.key}, {"mod_revision", event.kv.mod_revision}};
  }
  json::object out = KeyValueJson(event.kv);
  out["type"] = "put";
  return out;
}

// A conditional write that did not hold answers 409; the rest as every store error.
http::Response WriteError(const absl::Status& status) {
  if (absl::IsFailedPrecondition(status))
    return http::JsonError(409, "cas_failed", StatusMessage(status));
  return ErrorFor(status);
}

store::Done<store::LeaseGrant> AnswerLease(http::Respond respond) {
  return [respond = std::move(respond)](absl::StatusOr<store::LeaseGrant> grant) {
    if (!grant.ok()) return respond(ErrorFor(grant.status()));
    respond(
        Json(json::object{{"id", std::to_string(grant->id)}, {"ttl", FormatDuration(grant->ttl)}}));
  };
}

constexpr std::string_view kReservedPrefix = "gantry/";
// Written for clients, under their leases: locks and elections.
constexpr std::string_view kLockPrefix = "gantry/locks/";
constexpr std::string_view kElectionPrefix = "gantry/elections/";

// Whether a write to `range` could change a key under the reserved prefix.
bool TouchesReserved(const store::KeyRange& range) {
  if (range.key.starts_with(kReservedPrefix)) return true;
  return range.prefix && kReservedPrefix.starts_with(range.key);
}

std::optional<store::LeaseId> ParseLeaseId(std::string_view text) {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

}  // namespace

KvApi::KvApi(net::asio::io_context& io, store::Store& store)
    : io_(io), store_(store), parked_(io) {}

KvApi::~KvApi() {
  for (store::WatchId id : watches_) store_.CancelWatch(id);
}

void KvApi::HandleKv(const http::Request& request, std::string_view raw_key,
                     http::Respond respond) {
  auto key = PercentDecode(raw_key);
  if (!key) return respond(http::JsonError(400, "invalid_argument", "malformed %-escape in key"));
  // Keys travel in JSON (lists, watches), which carries text only.
  if (!IsValidUtf8(*key))
    return respond(http::JsonError(400, "invalid_argument", "keys must be UTF-8 text"));
  std::string_view query = request.Query();
  bool prefix = QueryParam(query, "prefix") == "true";
  store::KeyRange range{*key, prefix};
  if (request.method == "GET" || request.method == "HEAD") {
    if (QueryParam(query, "watch")) {
      IntParam from = ParseIntParam(query, "watch");
      if (from.error) return respond(std::move(*from.error));
      auto wait = QueryParam(query, "wait");
      auto duration = ParseDuration(wait.value_or("5m"));
      if (!duration.ok()) {
        return respond(http::JsonError(400, "invalid_argument",
                                       fmt::format("?wait: {}", StatusMessage(duration.status()))));
      }
      return WatchEvents(range, *from.value, std::min(*duration, kMaxBlockingWait),
                         request.abandonment, std::move(respond));
    }
    BlockingParse blocking = ParseBlocking(query);
    if (blocking.error) return respond(std::move(*blocking.error));
    if (!prefix && key->empty()) {
      return respond(
          http::JsonError(400, "invalid_argument", "empty key (add ?prefix=true to list keys)"));
    }
    if (blocking.query) {
      return ReadWhenChanged(range, prefix, *blocking.query, request.abandonment,
                             std::move(respond));
    }
    return Read(range, prefix, std::move(respond));
  }
  if ((request.method == "PUT" || request.method == "DELETE") && TouchesReserved(range)) {
    return respond(http::JsonError(
        403, "reserved",
        fmt::format("keys under \"{}\" are the agent's own (the registry); they are read-only here",
                    kReservedPrefix)));
  }
  if (request.method == "PUT") {
    if (prefix)
      return respond(http::JsonError(400, "invalid_argument", "PUT takes one key, not ?prefix"));
    return Put(request, std::move(*key), std::move(respond));
  }
  if (request.method == "DELETE") {
    if (!prefix && key->empty())
      return respond(http::JsonError(400, "invalid_argument", "empty key"));
    return Delete(request, std::move(range), std::move(respond));
  }
  respond(MethodNotAllowed(request, "GET, PUT, DELETE"));
}

void KvApi::EndWatch(store::WatchId id) {
  store_.CancelWatch(id);
  watches_.erase(id);
}

void KvApi::Read(const store::KeyRange& range, bool list, http::Respond respond) {
  store_.Range(range, [list, respond = std::move(respond)](absl::StatusOr<store::RangeResult> r) {
    if (!r.ok()) return respond(ErrorFor(r.status()));
    auto index = static_cast<uint64_t>(r->revision);
    if (list) {
      json::array out;
      for (const auto& kv : r->kvs) out.push_back(KeyValueJson(kv));
      return respond(Json(out, index));
    }
    if (r->kvs.empty()) {
      http::Response missing = http::JsonError(404, "not_found", "no such key");
      missing.headers.emplace_back("X-Gantry-Index", std::to_string(index));
      return respond(std::move(missing));
    }
    const store::KeyValue& kv = r->kvs.front();
    http::Response out;
    out.headers.emplace_back("Content-Type", "application/octet-stream");
    out.headers.emplace_back("X-Gantry-Index", std::to_string(index));
    out.headers.emplace_back("X-Gantry-Mod-Revision", std::to_string(kv.mod_revision));
    out.headers.emplace_back("X-Gantry-Create-Revision", std::to_string(kv.create_revision));
    if (kv.lease) out.headers.emplace_back("X-Gantry-Lease", std::to_string(kv.lease));
    out.body = kv.value;
    respond(std::move(out));
  });
}

void KvApi::ReadWhenChanged(const store::KeyRange& range, bool list, BlockingQuery blocking,
                            std::shared_ptr<http::Abandonment> gone, http::Respond respond) {
  // An index past the store's revision cannot be waited for (it came from elsewhere): answer.
  store_.Range({range.key, false},
               [this, range, list, blocking, gone = std::move(gone),
                respond = std::move(respond)](const absl::StatusOr<store::RangeResult>& r) mutable {
                 if (!r.ok()) return respond(ErrorFor(r.status()));
                 if (static_cast<store::Revision>(blocking.index) > r->revision) {
                   return Read(range, list, std::move(respond));
                 }
                 ParkUntilChanged(range, list, blocking, std::move(gone), std::move(respond));
               });
}

void KvApi::ParkUntilChanged(const store::KeyRange& range, bool list, BlockingQuery blocking,
                             std::shared_ptr<http::Abandonment> gone, http::Respond respond) {
  // A one-shot watch from N+1: its first event (from history or live) or error means the data
  // passed index N. The store delivers it on this thread; Wake runs after the write completes.
  auto changed = std::make_shared<bool>(false);
  store::WatchId watch = store_.Watch(range, static_cast<store::Revision>(blocking.index) + 1,
                                      [this, changed](const absl::StatusOr<store::Event>&) {
                                        if (*changed) return;
                                        *changed = true;
                                        net::asio::post(io_, [this] { parked_.Wake(); });
                                      });
  watches_.insert(watch);
  parked_.Park(
      blocking.wait, [changed] { return *changed; },
      [this, watch, range, list, respond = std::move(respond)]() mutable {
        EndWatch(watch);
        Read(range, list, std::move(respond));
      },
      std::move(gone), [this, watch] { EndWatch(watch); });
}

void KvApi::WatchEvents(const store::KeyRange& range, store::Revision from, Duration wait,
                        std::shared_ptr<http::Abandonment> gone, http::Respond respond) {
  struct Collected {
    json::array events;
    absl::Status error;
  };
  auto collected = std::make_shared<Collected>();
  store::WatchId watch =
      store_.Watch(range, from, [this, collected](const absl::StatusOr<store::Event>& event) {
        bool first = collected->events.empty() && collected->error.ok();
        if (event.ok()) {
          collected->events.push_back(EventJson(*event));
        } else {
          collected->error = event.status();
        }
        // Every event of one revision arrives before the posted Wake runs.
        if (first) net::asio::post(io_, [this] { parked_.Wake(); });
      });
  watches_.insert(watch);
  parked_.Park(
      wait, [collected] { return !collected->events.empty() || !collected->error.ok(); },
      [this, watch, from, collected, respond = std::move(respond)]() mutable {
        EndWatch(watch);
        if (!collected->error.ok()) return respond(ErrorFor(collected->error));
        // The revision the answer covers, so that the next watch, from the one after it,
        // misses nothing: its last event's (a revision's events come together), or the one
        // before `from` if none came. Not the store's revision now: a write after the watch
        // ended would be skipped.
        store::Revision revision =
            collected->events.empty()
                ? std::max<store::Revision>(from - 1, 0)
                : collected->events.back().as_object().at("mod_revision").as_int64();
        respond(Json(json::object{{"events", std::move(collected->events)}, {"revision", revision}},
                     static_cast<uint64_t>(revision)));
      },
      std::move(gone), [this, watch] { EndWatch(watch); });
}

void KvApi::Put(const http::Request& request, std::string key, http::Respond respond) {
  std::string_view query = request.Query();
  store::PutOptions options;
  if (auto lease = QueryParam(query, "lease")) {
    auto id = ParseLeaseId(*lease);
    if (!id) {
      return respond(http::JsonError(400, "invalid_argument",
                                     fmt::format("?lease={}: not a lease id", *lease)));
    }
    options.lease = *id;
  }
  IntParam cas = ParseIntParam(query, "cas");
  if (cas.error) return respond(std::move(*cas.error));
  options.expect_mod_revision = cas.value;
  if (request.body.size() > store::kMaxValueBytes) {
    return respond(http::JsonError(
        413, "value_too_large",
        fmt::format("value of {} bytes: at most {}", request.body.size(), store::kMaxValueBytes)));
  }
  store_.Put(std::move(key), request.body, options,
             [respond = std::move(respond)](absl::StatusOr<store::Revision> r) {
               if (!r.ok()) return respond(WriteError(r.status()));
               respond(Json(json::object{{"revision", *r}}, static_cast<uint64_t>(*r)));
             });
}

void KvApi::Delete(const http::Request& request, store::KeyRange range, http::Respond respond) {
  IntParam cas = ParseIntParam(request.Query(), "cas");
  if (cas.error) return respond(std::move(*cas.error));
  if (cas.value && range.prefix) {
    return respond(http::JsonError(400, "invalid_argument", "?cas takes one key, not ?prefix"));
  }
  store::TxnRequest txn;
  if (cas.value) {
    store::Compare compare;
    compare.key = range.key;
    compare.number = *cas.value;
    txn.compares.push_back(std::move(compare));
    txn.failure.push_back(store::TxnOp::Get({range.key, false}));
  }
  txn.success.push_back(store::TxnOp::Delete(std::move(range)));
  store_.Txn(std::move(txn), [expected = cas.value,
                              respond = std::move(respond)](absl::StatusOr<store::TxnResult> r) {
    if (!r.ok()) return respond(WriteError(r.status()));
    if (!r->succeeded) {
      const auto& found = r->results.front().kvs;
      return respond(
          http::JsonError(409, "cas_failed",
                          fmt::format("the key is at mod revision {}, not {}",
                                      found.empty() ? 0 : found.front().mod_revision, *expected)));
    }
    respond(Json(json::object{{"deleted", r->results.front().deleted}, {"revision", r->revision}},
                 static_cast<uint64_t>(r->revision)));
  });
}

void KvApi::HandleLeases(const http::Request& request, std::string_view rest,
                         http::Respond respond) {
  std::vector<std::string> seg = Segments(rest);
  if (seg.empty()) {
    if (request.method != "POST") return respond(MethodNotAllowed(request, "POST"));
    return GrantLease(request, std::move(respond));
  }
  auto id = ParseLeaseId(seg[0]);
  if (!id || seg.size() > 2 || (seg.size() == 2 && seg[1] != "keepalive")) {
    return respond(
        http::JsonError(404, "not_found", fmt::format("no such endpoint: {}", request.Path())));
  }
  if (seg.size() == 2) {
    if (request.method != "PUT") return respond(MethodNotAllowed(request, "PUT"));
    return store_.KeepAlive(*id, AnswerLease(std::move(respond)));
  }
  if (request.method != "DELETE") return respond(MethodNotAllowed(request, "DELETE"));
  // A lease holding the agent's own keys (the registry's) is not the API's to end; a lock's
  // lease (gantry/locks/) is its holder's.
  store_.Range({std::string(kReservedPrefix), true},
               [this, id = *id,
                respond = std::move(respond)](const absl::StatusOr<store::RangeResult>& reserved) {
                 if (!reserved.ok()) return respond(ErrorFor(reserved.status()));
                 for (const auto& kv : reserved->kvs) {
                   bool clients =
                       kv.key.starts_with(kLockPrefix) || kv.key.starts_with(kElectionPrefix);
                   if (kv.lease == id && !clients) {
                     return respond(http::JsonError(
                         403, "reserved", fmt::format("lease {} holds the agent's own keys", id)));
                   }
                 }
                 store_.RevokeLease(id, [respond](const absl::StatusOr<store::Revision>& r) {
                   if (!r.ok()) return respond(ErrorFor(r.status()));
                   respond(Json(json::object{{"revision", *r}}, static_cast<uint64_t>(*r)));
                 });
               });
}

void KvApi::GrantLease(const http::Request& request, http::Respond respond) {
  auto parsed = ParseObject(request.body, {"ttl"}, "a JSON object such as {\"ttl\": \"10s\"}");
  if (auto* error = std::get_if<http::Response>(&parsed)) return respond(std::move(*error));
  const json::object& fields = std::get<json::object>(parsed);
  if (!fields.contains("ttl")) {
    return respond(
        http::JsonError(400, "invalid_argument", "\"ttl\" must be a duration such as \"10s\""));
  }
  auto ttl = DurationField(fields, "ttl", {});
  if (auto* error = std::get_if<std::string>(&ttl)) {
    return respond(http::JsonError(400, "invalid_argument", *error));
  }
  store_.GrantLease(std::get<Duration>(ttl), AnswerLease(std::move(respond)));
}

}  // namespace gantry::api
