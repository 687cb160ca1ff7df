// Schema-checked reading of yaml-cpp nodes: typed values, known keys, "did you mean", and
// "not supported yet" for keys PRODUCT.md defines but gantry does not build yet. Every problem
// becomes a ConfigError with the node's file:line:col. Internal to config/.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/app_file.h"
#include "core/duration.h"

namespace gantry::config {

class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}
  void Add(Location where, std::string message);
  std::vector<ConfigError> Take();  // sorted by position
  bool empty() const { return errors_.empty(); }

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
};

Location LocationOf(const YAML::Mark& mark);

// One key: value pair of a mapping, with where each side was written.
struct Entry {
  std::string path;  // dotted, for messages: services.hello.replicas
  YAML::Node value;
  Location key_at;
  Location value_at;  // the key's position when the value is empty
};

// Reads a mapping's entries; Take() the known ones, then Finish() reports the rest.
class MapReader {
 public:
  MapReader(const YAML::Node& node, Location where, const std::string& path, Diagnostics& diag);

  const Entry* Take(std::string_view key);
  // A key of the product contract that is not built yet: an error if present.
  void NotSupportedYet(std::string_view key);
  // Reports each entry that was neither taken nor rejected (with a "did you mean").
  void Finish();

  const std::vector<Entry>& entries() const { return entries_; }
  bool is_map() const { return is_map_; }

 private:
  std::vector<Entry> entries_;
  std::vector<std::string> keys_;
  std::unordered_map<std::string, size_t> index_;  // key -> its place in keys_ (big maps: env)
  std::vector<bool> used_;
  std::vector<std::string> known_;
  Diagnostics& diag_;
  bool is_map_ = false;
};

std::optional<std::string> ReadString(const Entry& e, Diagnostics& diag);
std::optional<int> ReadInt(const Entry& e, Diagnostics& diag);
std::optional<bool> ReadBool(const Entry& e, Diagnostics& diag);
std::optional<Duration> ReadDuration(const Entry& e, Diagnostics& diag);
// An optional whole number `key` of the map, from `low` to `high` (else an error); `out` is
// left as it was when the key is absent.
void ReadBounded(MapReader& r, const char* key, int low, int high, int& out, Diagnostics& diag);

struct ListItem {
  std::string value;
  Location at;
};
std::optional<std::vector<ListItem>> ReadStringList(const Entry& e, Diagnostics& diag);
std::optional<std::map<std::string, std::string>> ReadStringMap(const Entry& e, Diagnostics& diag);

// For enumerated strings: an error naming the allowed values, with "did you mean" when close.
void ReportBadChoice(const Entry& e, std::string_view got, const std::vector<std::string>& allowed,
                     Diagnostics& diag);

}  // namespace gantry::config
