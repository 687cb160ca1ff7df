#include "config/yaml_reader.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/status.h"
#include "core/strings.h"

namespace gantry::config {

void Diagnostics::Add(Location where, std::string message) {
  errors_.push_back({file_, where.line, where.column, std::move(message)});
}

std::vector<ConfigError> Diagnostics::Take() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  return std::move(errors_);
}

Location LocationOf(const YAML::Mark& mark) {
  if (mark.is_null()) return {};
  return {mark.line + 1, mark.column + 1};
}

MapReader::MapReader(const YAML::Node& node, Location where, const std::string& path,
                     Diagnostics& diag)
    : diag_(diag) {
  if (node.IsNull()) {
    is_map_ = true;  // an empty block ("gateway:") reads as an empty mapping
    return;
  }
  if (!node.IsMap()) {
    diag_.Add(where, fmt::format("{}: expected a mapping of key: value",
                                 path.empty() ? "app file" : path));
    return;
  }
  is_map_ = true;
  for (auto it = node.begin(); it != node.end(); ++it) {
    Location key_at = LocationOf(it->first.Mark());
    if (!it->first.IsScalar()) {
      diag_.Add(key_at, "keys must be plain strings");
      continue;
    }
    std::string key = it->first.Scalar();
    auto [previous, added] = index_.emplace(key, keys_.size());
    if (!added) {
      const Entry& first = entries_[previous->second];
      diag_.Add(key_at, fmt::format("duplicate key \"{}\" (first at {}:{})", key, first.key_at.line,
                                    first.key_at.column));
      continue;
    }
    Location value_at = it->second.IsNull() ? key_at : LocationOf(it->second.Mark());
    std::string entry_path = path;
    if (!entry_path.empty()) entry_path += '.';
    entry_path += key;
    entries_.push_back({entry_path, it->second, key_at, value_at});
    keys_.push_back(key);
    used_.push_back(false);
  }
}

const Entry* MapReader::Take(std::string_view key) {
  known_.emplace_back(key);
  auto it = index_.find(std::string(key));
  if (it == index_.end()) return nullptr;
  used_[it->second] = true;
  return &entries_[it->second];
}

void MapReader::NotSupportedYet(std::string_view key) {
  if (const Entry* e = Take(key)) {
    diag_.Add(e->key_at, fmt::format("{}: not supported yet", e->path));
  }
}

void MapReader::Finish() {
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (used_[i]) continue;
    std::string message = fmt::format("{}: unknown key", entries_[i].path);
    if (auto close = ClosestMatch(keys_[i], known_)) {
      message += fmt::format("; did you mean \"{}\"?", *close);
    }
    diag_.Add(entries_[i].key_at, std::move(message));
  }
}

namespace {
std::string Shown(const YAML::Node& node) {
  if (node.IsScalar()) return fmt::format("\"{}\"", node.Scalar());
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  return "nothing";
}
}  // namespace

std::optional<std::string> ReadString(const Entry& e, Diagnostics& diag) {
  if (!e.value.IsScalar()) {
    diag.Add(e.value_at, fmt::format("{}: expected a string, got {}", e.path, Shown(e.value)));
    return std::nullopt;
  }
  return e.value.Scalar();
}

std::optional<int> ReadInt(const Entry& e, Diagnostics& diag) {
  int value = 0;
  if (!e.value.IsScalar() || !YAML::convert<int>::decode(e.value, value)) {
    diag.Add(e.value_at, fmt::format("{}: expected an integer, got {}", e.path, Shown(e.value)));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> ReadBool(const Entry& e, Diagnostics& diag) {
  bool value = false;
  if (!e.value.IsScalar() || !YAML::convert<bool>::decode(e.value, value)) {
    diag.Add(e.value_at, fmt::format("{}: expected true or false, got {}", e.path, Shown(e.value)));
    return std::nullopt;
  }
  return value;
}

std::optional<Duration> ReadDuration(const Entry& e, Diagnostics& diag) {
  if (!e.value.IsScalar()) {
    diag.Add(e.value_at,
             fmt::format("{}: expected a duration such as 2s, got {}", e.path, Shown(e.value)));
    return std::nullopt;
  }
  auto parsed = ParseDuration(e.value.Scalar());
  if (!parsed.ok()) {
    diag.Add(e.value_at, fmt::format("{}: {}", e.path, StatusMessage(parsed.status())));
    return std::nullopt;
  }
  return *parsed;
}

std::optional<std::vector<ListItem>> ReadStringList(const Entry& e, Diagnostics& diag) {
  if (!e.value.IsSequence()) {
    diag.Add(e.value_at, fmt::format("{}: expected a list, got {}", e.path, Shown(e.value)));
    return std::nullopt;
  }
  std::vector<ListItem> out;
  bool ok = true;
  for (const auto& item : e.value) {
    if (!item.IsScalar()) {
      diag.Add(LocationOf(item.Mark()),
               fmt::format("{}: list items must be strings, got {}", e.path, Shown(item)));
      ok = false;
      continue;
    }
    out.push_back({item.Scalar(), LocationOf(item.Mark())});
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::map<std::string, std::string>> ReadStringMap(const Entry& e, Diagnostics& diag) {
  MapReader reader(e.value, e.value_at, e.path, diag);
  if (!reader.is_map()) return std::nullopt;
  std::map<std::string, std::string> out;
  bool ok = true;
  for (const auto& entry : reader.entries()) {
    reader.Take(entry.path.substr(e.path.size() + 1));
    if (entry.value.IsNull()) {
      out[entry.path.substr(e.path.size() + 1)] = "";
    } else if (auto value = ReadString(entry, diag)) {
      out[entry.path.substr(e.path.size() + 1)] = *value;
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

void ReportBadChoice(const Entry& e, std::string_view got, const std::vector<std::string>& allowed,
                     Diagnostics& diag) {
  std::string message =
      fmt::format("{}: \"{}\" is not one of {}", e.path, got, fmt::join(allowed, ", "));
  if (auto close = ClosestMatch(got, allowed))
    message += fmt::format("; did you mean \"{}\"?", *close);
  diag.Add(e.value_at, std::move(message));
}

void ReadBounded(MapReader& r, const char* key, int low, int high, int& out, Diagnostics& diag) {
  const Entry* e = r.Take(key);
  if (!e) return;
  if (auto n = ReadInt(*e, diag)) {
    if (*n < low || *n > high) {
      diag.Add(e->value_at, fmt::format("{}: must be from {} to {}", e->path, low, high));
    }
    out = *n;
  }
}

}  // namespace gantry::config
