#include "proxy/route_match.h"

namespace gantry::proxy {

bool PrefixMatches(std::string_view prefix, std::string_view path) {
  if (prefix == "/" || prefix.empty()) return true;
  if (prefix.back() == '/') prefix.remove_suffix(1);
  if (!path.starts_with(prefix)) return false;
  if (path.size() == prefix.size()) return true;
  char next = path[prefix.size()];
  return next == '/' || next == '?';
}

const Route* MatchRoute(const Snapshot& snapshot, std::string_view host, std::string_view path) {
  for (bool want_host : {true, false}) {
    for (const Route& route : snapshot.routes) {
      if (want_host != !route.host.empty()) continue;
      if (want_host && route.host != host) continue;
      if (PrefixMatches(route.prefix, path)) return &route;
    }
  }
  return nullptr;
}

std::string StripPrefix(std::string_view prefix, std::string_view target) {
  if (prefix.ends_with('/')) prefix.remove_suffix(1);
  std::string_view rest = target.substr(std::min(prefix.size(), target.size()));
  std::string out;
  out.reserve(rest.size() + 1);
  if (rest.empty() || rest.front() != '/') out.push_back('/');
  out.append(rest);
  return out;
}

std::string HostWithoutPort(std::string_view host) {
  if (host.starts_with('[')) {
    size_t close = host.find(']');
    host = host.substr(1, close == std::string_view::npos ? host.size() - 1 : close - 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  std::string out(host);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  }
  return out;
}

}  // namespace gantry::proxy
