#include "api/locks_api.h"

#include <boost/json.hpp>

#include "api/blocking.h"
#include "api/json_http.h"
#include "core/status.h"

namespace gantry::api {

namespace json = boost::json;

namespace {
constexpr Duration kDefaultTtl = std::chrono::seconds(10);
constexpr Duration kMaxWait = std::chrono::minutes(10);
}  // namespace

namespace {

json::value HolderJson(const coord::LockService::State& state) {
  if (!state.holder) return nullptr;
  return json::object{{"token", state.holder->token},
                      {"lease", std::to_string(state.holder->lease)},
                      {"value", state.value}};
}

}  // namespace

void LocksApi::Handle(const http::Request& request, std::string_view rest, http::Respond respond) {
  if (rest.empty() || rest == "/") {
    if (request.method != "GET" && request.method != "HEAD") {
      return respond(MethodNotAllowed(request, "GET"));
    }
    return locks_.List([respond](auto locks) {
      if (!locks.ok()) return respond(ErrorFor(locks.status()));
      json::array rows;
      uint64_t revision = 0;
      for (const auto& [name, state] : *locks) {
        rows.push_back(json::object{{"name", name},
                                    {"holder", HolderJson(state)},
                                    {"waiters", static_cast<int64_t>(state.waiters)}});
        revision = static_cast<uint64_t>(state.revision);
      }
      respond(Json(std::move(rows), revision));
    });
  }
  if (rest.size() < 2 || rest[0] != '/' || rest.find('/', 1) != std::string_view::npos) {
    return respond(http::JsonError(404, "not_found", "use /api/v1/locks/{name}"));
  }
  std::string name(rest.substr(1));
  if (request.method == "POST") {
    auto parsed = ParseObject(request.body.empty() ? "{}" : request.body, {"ttl", "wait", "value"},
                              "a JSON object such as {\"ttl\": \"10s\", \"wait\": \"5s\"}");
    if (auto* error = std::get_if<http::Response>(&parsed)) return respond(std::move(*error));
    const json::object& fields = std::get<json::object>(parsed);
    auto ttl = DurationField(fields, "ttl", kDefaultTtl);
    if (auto* error = std::get_if<std::string>(&ttl)) {
      return respond(http::JsonError(400, "invalid_argument", *error));
    }
    auto wait = DurationField(fields, "wait", Duration(0));
    if (auto* error = std::get_if<std::string>(&wait)) {
      return respond(http::JsonError(400, "invalid_argument", *error));
    }
    if (std::get<Duration>(wait) > kMaxWait) {
      return respond(http::JsonError(400, "invalid_argument", "\"wait\" is at most 10m"));
    }
    std::string value = StringField(fields, "value").value_or("");
    auto give_up = locks_.Acquire(
        name, std::get<Duration>(ttl), std::get<Duration>(wait), std::move(value),
        [respond](absl::StatusOr<coord::LockService::Held> held) {
          if (absl::IsDeadlineExceeded(held.status())) {
            return respond(http::JsonError(408, "lock_wait_timeout", StatusMessage(held.status())));
          }
          if (absl::IsAborted(held.status())) {
            return respond(http::JsonError(409, "lease_lost", StatusMessage(held.status())));
          }
          if (!held.ok()) return respond(ErrorFor(held.status()));
          respond(
              Json(json::object{{"token", held->token}, {"lease", std::to_string(held->lease)}}));
        });
    // A waiter whose client left must not take the lock later (and hold it for its TTL).
    if (request.abandonment) request.abandonment->OnAbandoned(std::move(give_up));
    return;
  }
  if (request.method == "DELETE") {
    IntParam token = ParseIntParam(request.Query(), "token");
    if (token.error) return respond(std::move(*token.error));
    if (!token.value) {
      return respond(http::JsonError(400, "invalid_argument", "the token is missing: ?token=N"));
    }
    return locks_.Release(name, *token.value, [respond](absl::StatusOr<store::Revision> done) {
      if (!done.ok()) return respond(ErrorFor(done.status()));
      respond(Json(json::object{{"released", true}}));
    });
  }
  if (request.method == "GET" || request.method == "HEAD") {
    auto answer = [respond, name](absl::StatusOr<coord::LockService::State> state) {
      if (!state.ok()) return respond(ErrorFor(state.status()));
      respond(Json(json::object{{"name", name},
                                {"holder", HolderJson(*state)},
                                {"waiters", static_cast<int64_t>(state->waiters)}},
                   static_cast<uint64_t>(state->revision)));
    };
    BlockingParse blocking = ParseBlocking(request.Query());
    if (blocking.error) return respond(std::move(*blocking.error));
    if (blocking.query && blocking.query->index > 0) {
      return locks_.Observe(name, static_cast<store::Revision>(blocking.query->index),
                            blocking.query->wait, std::move(answer));
    }
    return locks_.Describe(name, std::move(answer));
  }
  respond(MethodNotAllowed(request, "GET, POST, DELETE"));
}

}  // namespace gantry::api
