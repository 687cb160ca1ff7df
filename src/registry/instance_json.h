// An Instance as the JSON value of its store key, "gantry/registry/<service>/<id>".
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "registry/registry.h"

namespace gantry::registry {

inline constexpr std::string_view kRegistryPrefix = "gantry/registry/";

std::string InstanceKey(const Instance& instance);
std::string InstanceToJson(const Instance& instance);
absl::StatusOr<Instance> InstanceFromJson(std::string_view text);

// The check as JSON fields: {"kind": "http", "http": "/healthz", "interval": "2s", ...}.
const char* CheckKindName(config::HealthSpec::Kind kind);

}  // namespace gantry::registry
