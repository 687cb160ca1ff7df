#include "agent/state_dir.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "core/status.h"
#include "orchestrator/proc_stats.h"

namespace gantry::agent {
namespace json = boost::json;

namespace {
std::filesystem::path AgentFilePath(const std::filesystem::path& state_dir) {
  return state_dir / "agent.json";
}
}  // namespace

std::filesystem::path DefaultStateDir(const std::filesystem::path& app_file) {
  std::filesystem::path dir = app_file.parent_path();
  return (dir.empty() ? std::filesystem::path(".") : dir) / ".gantry";
}

absl::Status ClaimStateDir(const std::filesystem::path& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        fmt::format("cannot create state folder {}: {}", state_dir.string(), ec.message()));
  }
  auto existing = ReadAgentFile(state_dir);
  if (existing.ok() && orchestrator::ProcessRuns(existing->pid)) {
    return absl::AlreadyExistsError(
        fmt::format("an agent (pid {}) already runs from {}; stop it first", existing->pid,
                    state_dir.string()));
  }
  return absl::OkStatus();
}

absl::Status WriteAgentFile(const std::filesystem::path& state_dir, const AgentFile& file) {
  json::object body{
      {"pid", file.pid},
      {"api", "http://" + file.api.ToString()},
      {"gateway", (file.gateway_tls ? "https://" : "http://") + file.gateway.ToString()},
      {"mesh", "http://" + file.mesh.ToString()}};
  std::filesystem::path final_path = AgentFilePath(state_dir);
  std::filesystem::path temp = final_path;
  temp += ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << json::serialize(body) << "\n";
    if (!out) return absl::InternalError(fmt::format("cannot write {}", temp.string()));
  }
  std::error_code ec;
  std::filesystem::rename(temp, final_path, ec);  // readers never see half a file
  if (ec)
    return absl::InternalError(
        fmt::format("cannot write {}: {}", final_path.string(), ec.message()));
  return absl::OkStatus();
}

absl::StatusOr<AgentFile> ReadAgentFile(const std::filesystem::path& state_dir) {
  std::ifstream in(AgentFilePath(state_dir));
  if (!in)
    return absl::NotFoundError(fmt::format("no running agent found in {}", state_dir.string()));
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  json::value value = json::parse(text.str(), ec);
  const json::object* object = ec ? nullptr : value.if_object();
  const json::value* pid = object ? object->if_contains("pid") : nullptr;
  const json::value* api = object ? object->if_contains("api") : nullptr;
  if (!pid || !pid->is_int64() || !api || !api->is_string()) {
    return absl::DataLossError(
        fmt::format("{} is not a valid agent file", AgentFilePath(state_dir).string()));
  }
  AgentFile file;
  file.pid = static_cast<int>(pid->as_int64());
  GANTRY_ASSIGN_OR_RETURN(file.api, ParseHostPort(std::string(api->as_string())));
  for (auto [key, target] : {std::pair{"gateway", &file.gateway}, std::pair{"mesh", &file.mesh}}) {
    if (const json::value* v = object->if_contains(key); v && v->is_string()) {
      if (auto parsed = ParseHostPort(std::string(v->as_string())); parsed.ok()) *target = *parsed;
    }
  }
  return file;
}

void RemoveAgentFile(const std::filesystem::path& state_dir) {
  std::error_code ignored;
  std::filesystem::remove(AgentFilePath(state_dir), ignored);
}

}  // namespace gantry::agent
