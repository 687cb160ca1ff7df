#include "core/address.h"

#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace gantry {

std::string HostPort::ToString() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

absl::StatusOr<HostPort> ParseHostPort(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        fmt::format("bad address \"{}\": {} (write host:port, e.g. 127.0.0.1:8080)", text, why));
  };
  std::string_view rest = text;
  if (rest.starts_with("http://")) rest.remove_prefix(7);
  if (rest.starts_with("https://")) rest.remove_prefix(8);
  if (rest.ends_with("/")) rest.remove_suffix(1);
  HostPort out;
  size_t colon;
  if (rest.starts_with("[")) {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return bad("unclosed '['");
    out.host = std::string(rest.substr(1, close - 1));
    colon = close + 1;
    if (colon >= rest.size() || rest[colon] != ':') return bad("missing port");
  } else {
    colon = rest.rfind(':');
    if (colon == std::string_view::npos) return bad("missing port");
    out.host = std::string(rest.substr(0, colon));
  }
  if (out.host.empty()) return bad("missing host");
  // A name or IPv4 address: letters, digits, '.', '-', '_'; in brackets an IPv6 address (hex
  // digits, ':', '.', and '%' with a zone). Anything else would not read back the same once
  // written out (ToString brackets a host with a ':').
  bool bracketed = rest.starts_with("[");
  for (char c : out.host) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
              (bracketed && (c == ':' || c == '%'));
    if (!ok) return bad(fmt::format("'{}' cannot be in a host", c));
  }
  std::string_view port = rest.substr(colon + 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return bad("port must be a number from 0 to 65535");
  }
  out.port = static_cast<uint16_t>(value);
  return out;
}

absl::StatusOr<std::vector<HostPort>> ParseEndpointList(std::string_view text) {
  std::vector<HostPort> out;
  while (true) {
    size_t comma = text.find(',');
    std::string_view endpoint = text.substr(0, comma);
    if (endpoint.empty()) return absl::InvalidArgumentError("an empty endpoint");
    if (endpoint.find('/') != std::string_view::npos) {
      return absl::InvalidArgumentError(fmt::format("{}: host:port only (no path)", endpoint));
    }
    auto parsed = ParseHostPort(endpoint);
    if (!parsed.ok()) return parsed.status();
    if (parsed->port == 0) {
      return absl::InvalidArgumentError(fmt::format("{}: a port is needed", endpoint));
    }
    out.push_back(*std::move(parsed));
    if (comma == std::string_view::npos) return out;
    text.remove_prefix(comma + 1);
  }
}

}  // namespace gantry
