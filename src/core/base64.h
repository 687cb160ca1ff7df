// Standard base64 (RFC 4648, with padding), as JSON APIs carry binary values.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gantry {

std::string Base64Encode(std::string_view data);
std::optional<std::string> Base64Decode(std::string_view text);  // nullopt when malformed

}  // namespace gantry
