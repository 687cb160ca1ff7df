// The key a hashing balancer (ring_hash, maglev) places a request by, from `policy.hash_on`:
// a header, a cookie, the path, or the client's IP (also the fallback when the named header or
// cookie is missing). Pure.
#pragma once

#include <cstdint>
#include <string_view>

#include "config/app_spec.h"
#include "http/h1_head.h"

namespace gantry::proxy {

uint64_t RequestKeyHash(const config::LbSpec& lb, const http::h1::RequestHead& head,
                        std::string_view client_ip);

// The value of cookie `name` in a Cookie field ("a=1; b=2"), or "".
std::string_view FindCookie(std::string_view cookies, std::string_view name);

}  // namespace gantry::proxy
