#include "orchestrator/proc_stats.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace gantry::orchestrator {

std::optional<std::vector<std::string>> ProcStatFields(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream stat_file("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat_file, line)) return std::nullopt;
  // The command name (field 2) may hold spaces and parentheses: the rest starts past the last ')'.
  size_t close = line.rfind(')');
  if (close == std::string::npos || close + 2 > line.size()) return std::nullopt;
  std::istringstream rest(line.substr(close + 2));
  std::vector<std::string> fields;
  for (std::string field; rest >> field;) fields.push_back(std::move(field));
  return fields;
}

bool ProcessRuns(pid_t pid) {
  auto fields = ProcStatFields(pid);
  return fields && !fields->empty() && (*fields)[0] != "Z" && (*fields)[0] != "X";
}

std::optional<uint64_t> ProcessStartTime(pid_t pid) {
  auto fields = ProcStatFields(pid);
  if (!fields || fields->size() < 20 || (*fields)[0] == "Z" || (*fields)[0] == "X") {
    return std::nullopt;
  }
  return std::strtoull((*fields)[19].c_str(), nullptr, 10);  // field 22
}

std::optional<ProcStats> ReadProcStats(pid_t pid) {
  auto fields = ProcStatFields(pid);
  if (!fields || fields->size() < 13) return std::nullopt;
  uint64_t utime = std::stoull((*fields)[11]);  // field 14
  uint64_t stime = std::stoull((*fields)[12]);  // field 15
  ProcStats stats;
  stats.cpu_seconds =
      static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
  uint64_t size_pages = 0, resident_pages = 0;
  if (statm >> size_pages >> resident_pages) {
    stats.memory_bytes = resident_pages * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  }
  return stats;
}

}  // namespace gantry::orchestrator
