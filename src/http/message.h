// HTTP messages as plain values, for code that must not see Beast (API handlers, the CLI).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gantry::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";
  std::string target = "/";  // path and query
  Headers headers;
  std::string body;

  std::string_view Header(std::string_view name) const;  // case-insensitive; "" if absent
  std::string_view Path() const;                         // target without the query
  std::string_view Query() const;                        // after '?', or ""
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;

  std::string_view Header(std::string_view name) const;
};

// {"error": message, "code": code} with a JSON content type.
Response JsonError(int status, std::string_view code, std::string_view message);
// Escapes a string for a JSON string literal (without the quotes).
std::string JsonEscape(std::string_view text);

}  // namespace gantry::http
