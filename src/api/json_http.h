// Small pieces every API handler shares: JSON answers, query parameters, path segments, and
// the mapping from a status to an HTTP error.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "absl/status/status.h"
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

// A whole-number query parameter; a 400 answer when it is malformed.
struct IntParam {
  std::optional<int64_t> value;
  std::optional<http::Response> error;
};
IntParam ParseIntParam(std::string_view query, std::string_view name);

}  // namespace gantry::api
