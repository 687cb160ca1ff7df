#include "orchestrator/replica_records.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <boost/json.hpp>

namespace gantry::orchestrator {
namespace json = boost::json;

absl::Status SaveReplicaRecords(const std::filesystem::path& file,
                                const std::vector<ReplicaRecord>& records) {
  json::array out;
  for (const ReplicaRecord& r : records) {
    out.emplace_back(json::object{{"id", r.id},
                                  {"service", r.service},
                                  {"pid", r.pid},
                                  {"start_time", r.start_time},
                                  {"port", r.port},
                                  {"restarts", r.restarts}});
  }
  std::filesystem::path temp = file;
  temp += ".tmp";
  {
    std::ofstream stream(temp, std::ios::trunc);
    stream << json::serialize(out) << "\n";
    if (!stream) return absl::InternalError(fmt::format("cannot write {}", temp.string()));
  }
  std::error_code ec;
  std::filesystem::rename(temp, file, ec);
  if (ec)
    return absl::InternalError(fmt::format("cannot write {}: {}", file.string(), ec.message()));
  return absl::OkStatus();
}

std::vector<ReplicaRecord> LoadReplicaRecords(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return {};
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  json::value parsed = json::parse(text.str(), ec);
  std::vector<ReplicaRecord> records;
  if (ec || !parsed.is_array()) return records;
  for (const json::value& item : parsed.as_array()) {
    try {
      const json::object& o = item.as_object();
      ReplicaRecord r;
      r.id = json::value_to<std::string>(o.at("id"));
      r.service = json::value_to<std::string>(o.at("service"));
      r.pid = static_cast<pid_t>(o.at("pid").to_number<int64_t>());
      r.start_time = o.at("start_time").to_number<uint64_t>();
      r.port = static_cast<uint16_t>(o.at("port").to_number<int64_t>());
      r.restarts = static_cast<int>(o.at("restarts").to_number<int64_t>());
      records.push_back(std::move(r));
    } catch (const std::exception&) {
      continue;  // a damaged entry adopts nothing
    }
  }
  return records;
}

}  // namespace gantry::orchestrator
