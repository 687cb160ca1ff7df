#include "api/logs_api.h"

#include <algorithm>
#include <fstream>

#include <fmt/format.h>

#include "api/json_http.h"

namespace gantry::api {
namespace {

std::optional<uint64_t> ParseCount(const std::optional<std::string>& text) {
  if (!text || text->empty() || text->size() > 15) return std::nullopt;
  uint64_t value = 0;
  for (char c : *text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

}  // namespace

http::Response LogsApi::Get(const std::string& instance, std::string_view query) const {
  bool known = false;
  for (const auto& replica : supervisor_.Replicas()) known = known || replica.id == instance;
  std::filesystem::path file = logs_dir_ / (instance + ".log");
  if (!known && (instance.find('/') != std::string::npos || !std::filesystem::exists(file))) {
    return http::JsonError(404, "not_found", fmt::format("no replica named \"{}\"", instance));
  }
  auto offset_param = QueryParam(query, "offset");
  auto tail_param = QueryParam(query, "tail");
  std::optional<uint64_t> offset = ParseCount(offset_param);
  std::optional<uint64_t> tail = ParseCount(tail_param);
  if ((offset_param && !offset) || (tail_param && !tail)) {
    return http::JsonError(400, "invalid_argument", "offset and tail must be whole numbers");
  }
  std::ifstream in(file, std::ios::binary);
  std::string text;
  uint64_t size = 0;
  if (in) {
    in.seekg(0, std::ios::end);
    size = static_cast<uint64_t>(in.tellg());
  }
  uint64_t start = 0;
  if (offset) {
    start = std::min(*offset, size);  // a file that shrank starts over at its end
  } else {
    // The last `tail` lines: read the end of the file and count newlines back.
    uint64_t lines = tail.value_or(100);
    uint64_t window = std::min<uint64_t>(size, kMaxAnswerBytes);
    start = size - window;
    if (lines > 0 && window > 0) {
      std::string end(window, '\0');
      in.seekg(static_cast<std::streamoff>(start));
      in.read(end.data(), static_cast<std::streamsize>(window));
      size_t cut = end.size();
      if (cut > 0 && end[cut - 1] == '\n') --cut;  // the last line's own newline
      for (uint64_t n = 0; n < lines && cut != std::string::npos && cut > 0; ++n) {
        cut = end.rfind('\n', cut - 1);
      }
      if (cut != std::string::npos && cut > 0) start += cut + 1;
    }
  }
  uint64_t length = std::min<uint64_t>(size - start, kMaxAnswerBytes);
  if (length > 0) {
    text.resize(length);
    in.clear();
    in.seekg(static_cast<std::streamoff>(start));
    in.read(text.data(), static_cast<std::streamsize>(length));
  }
  http::Response response;
  response.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  response.headers.emplace_back("X-Gantry-Offset", std::to_string(start + length));
  response.body = std::move(text);
  return response;
}

}  // namespace gantry::api
