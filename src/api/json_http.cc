#include "api/json_http.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/status.h"
#include "core/strings.h"

namespace gantry::api {

http::Response Json(const boost::json::value& body, uint64_t index, int status) {
  http::Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json");
  if (index) r.headers.emplace_back("X-Gantry-Index", std::to_string(index));
  // Boost.JSON writes strings' bytes as they are; what it is given may carry any (an app file's
  // text quoted back in an error): JSON text must be UTF-8.
  r.body = ToValidUtf8(boost::json::serialize(body));
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

std::variant<boost::json::object, http::Response> ParseObject(
    const std::string& body, std::initializer_list<std::string_view> allowed,
    std::string_view expected) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(body, ec);
  if (ec || !value.is_object()) {
    return http::JsonError(400, "invalid_json", fmt::format("expected {}", expected));
  }
  for (const auto& field : value.as_object()) {
    if (std::find(allowed.begin(), allowed.end(), field.key()) == allowed.end()) {
      return http::JsonError(400, "unknown_field",
                             fmt::format("unknown field \"{}\"", std::string(field.key())));
    }
  }
  return std::move(value.as_object());
}

std::optional<std::string> StringField(const boost::json::object& o, std::string_view name) {
  const boost::json::value* v = o.if_contains(name);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}

std::variant<Duration, std::string> DurationField(const boost::json::object& o,
                                                  std::string_view name, Duration fallback) {
  const boost::json::value* v = o.if_contains(name);
  if (!v) return fallback;
  if (!v->is_string()) return fmt::format("\"{}\" must be a duration such as \"10s\"", name);
  auto d = ParseDuration(std::string(v->as_string()));
  if (!d.ok()) return fmt::format("{}: {}", name, StatusMessage(d.status()));
  return *d;
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
