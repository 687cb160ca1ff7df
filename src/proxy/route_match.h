// Route selection and path rewriting. Pure functions over a Snapshot.
#pragma once

#include <string>
#include <string_view>

#include "proxy/snapshot.h"

namespace gantry::proxy {

// "/greet" matches "/greet", "/greet/x" and "/greet?q", not "/greeting". "/" matches all.
bool PrefixMatches(std::string_view prefix, std::string_view path);

// Routes naming this host first, then host-less routes; longest prefix wins within each.
const Route* MatchRoute(const Snapshot& snapshot, std::string_view host, std::string_view path);

// Removes the prefix from a target ("/api/x?q" with "/api" -> "/x?q"); never returns "".
std::string StripPrefix(std::string_view prefix, std::string_view target);

// "Hello:8080" -> "hello", "[::1]:80" -> "::1".
std::string HostWithoutPort(std::string_view host);

}  // namespace gantry::proxy
