// Small pieces every API handler shares: JSON answers, query parameters, path segments, and
// the mapping from a status to an HTTP error.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <initializer_list>
#include <variant>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "absl/status/status.h"
#include "core/duration.h"
#include "http/message.h"

namespace gantry::api {

// A JSON body; `index` > 0 adds X-Gantry-Index.
http::Response Json(const boost::json::value& body, uint64_t index = 0, int status = 200);

// Query parameter `name`, percent-decoded; "true" for a bare `?name`; nullopt when absent.
std::optional<std::string> QueryParam(std::string_view query, std::string_view name);

// Percent-decoding of a path or query part; nullopt on a malformed escape.
std::optional<std::string> PercentDecode(std::string_view text);

// The path split at '/', empty segments dropped.
std::vector<std::string> Segments(std::string_view path);

// A store or domain error as a JSON error: InvalidArgument 400, NotFound 404,
// FailedPrecondition 409, OutOfRange 410 (compacted), ResourceExhausted 507 (disk full),
// Unavailable 503, anything else 500.
http::Response ErrorFor(const absl::Status& status);

http::Response MethodNotAllowed(const http::Request& request, std::string_view allowed);

// A JSON object body whose fields are all in `allowed`, or the 400 to answer (invalid_json
// naming `expected`, or unknown_field).
std::variant<boost::json::object, http::Response> ParseObject(
    const std::string& body, std::initializer_list<std::string_view> allowed,
    std::string_view expected = "a JSON object");

// A string field; nullopt when absent or not a string.
std::optional<std::string> StringField(const boost::json::object& o, std::string_view name);

// A duration field ("10s"), `fallback` when absent, or the error message for a bad one.
std::variant<Duration, std::string> DurationField(const boost::json::object& o,
                                                  std::string_view name, Duration fallback);

// A whole-number query parameter; a 400 answer when it is malformed.
struct IntParam {
  std::optional<int64_t> value;
  std::optional<http::Response> error;
};
IntParam ParseIntParam(std::string_view query, std::string_view name);

}  // namespace gantry::api
