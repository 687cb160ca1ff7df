#include "api/json_http.h"

#include <charconv>

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

#include "core/status.h"

namespace gantry::api {

http::Response Json(const boost::json::value& body, uint64_t index, int status) {
  http::Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json");
  if (index) r.headers.emplace_back("X-Gantry-Index", std::to_string(index));
  r.body = boost::json::serialize(body);
  r.body += '\n';
  return r;
}

std::optional<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    unsigned value = 0;
    if (i + 2 >= text.size()) return std::nullopt;
    auto [end, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
    if (ec != std::errc() || end != text.data() + i + 3) return std::nullopt;
    out.push_back(static_cast<char>(value));
    i += 2;
  }
  return out;
}

std::optional<std::string> QueryParam(std::string_view query, std::string_view name) {
  size_t pos = 0;
  while (pos < query.size()) {
    size_t end = query.find('&', pos);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(pos, end - pos);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      if (eq == std::string_view::npos) return "true";
      return PercentDecode(pair.substr(eq + 1)).value_or("");
    }
    pos = end + 1;
  }
  return std::nullopt;
}

std::vector<std::string> Segments(std::string_view path) {
  std::vector<std::string> out;
  size_t pos = 1;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    if (end > pos) out.emplace_back(path.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

http::Response ErrorFor(const absl::Status& status) {
  std::string_view message = StatusMessage(status);
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return http::JsonError(400, "invalid_argument", message);
    case absl::StatusCode::kNotFound:
      return http::JsonError(404, "not_found", message);
    case absl::StatusCode::kFailedPrecondition:
      return http::JsonError(409, "conflict", message);
    case absl::StatusCode::kOutOfRange:
      return http::JsonError(410, "compacted", message);
    case absl::StatusCode::kResourceExhausted:
      return http::JsonError(507, "disk_full", message);
    case absl::StatusCode::kUnavailable:
      return http::JsonError(503, "unavailable", message);
    default:
      return http::JsonError(500, "internal", message);
  }
}

http::Response MethodNotAllowed(const http::Request& request, std::string_view allowed) {
  http::Response r = http::JsonError(405, "method_not_allowed",
                                     fmt::format("{} is not allowed on {} (allowed: {})",
                                                 request.method, request.Path(), allowed));
  r.headers.emplace_back("Allow", std::string(allowed));
  return r;
}

IntParam ParseIntParam(std::string_view query, std::string_view name) {
  IntParam out;
  auto text = QueryParam(query, name);
  if (!text) return out;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < 0) {
    out.error =
        http::JsonError(400, "invalid_argument",
                        fmt::format("?{}={}: expected a whole number, 0 or more", name, *text));
    return out;
  }
  out.value = value;
  return out;
}

}  // namespace gantry::api
