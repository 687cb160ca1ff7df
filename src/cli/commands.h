// One function per `gantry <verb>`; each returns the process exit code.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace gantry::cli {

// How a command finds the agent: --api, then GANTRY_API, then <state dir>/agent.json.
struct AgentLocator {
  std::string api;                  // --api
  std::filesystem::path state_dir;  // --state-dir, default ./.gantry
};

struct UpFlags {
  std::filesystem::path file = "gantry.yaml";
  bool detach = false;
  int workers = 0;  // 0: one per core
  std::string api, gateway, mesh;
  std::filesystem::path state_dir;
};

int Up(const UpFlags& flags);
int Validate(const std::filesystem::path& file);
int Ps(const AgentLocator& locator, const std::string& service, const std::string& output);
int Version();

}  // namespace gantry::cli
