#include "proxy/lb/request_key.h"

#include "coord/stable_hash.h"

namespace gantry::proxy {

std::string_view FindCookie(std::string_view cookies, std::string_view name) {
  while (!cookies.empty()) {
    size_t end = cookies.find(';');
    std::string_view pair = cookies.substr(0, end);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
      return pair.substr(name.size() + 1);
    }
    if (end == std::string_view::npos) break;
    cookies.remove_prefix(end + 1);
  }
  return {};
}

uint64_t RequestKeyHash(const config::LbSpec& lb, const http::h1::RequestHead& head,
                        std::string_view client_ip) {
  using HashOn = config::LbSpec::HashOn;
  std::string_view key;
  switch (lb.hash_on) {
    case HashOn::kHeader:
      key = head.Find(lb.hash_name);
      break;
    case HashOn::kCookie:
      for (size_t i = 0; i < head.header_count && key.empty(); ++i) {
        if (http::h1::EqualsIgnoreCase(head.headers[i].name, "cookie")) {
          key = FindCookie(head.headers[i].value, lb.hash_name);
        }
      }
      break;
    case HashOn::kPath:
      key = head.target.substr(0, head.target.find('?'));
      break;
    case HashOn::kClientIp:
      break;
  }
  return coord::StableHash(key.empty() ? client_ip : key);
}

}  // namespace gantry::proxy
