// Whole-file writes that are atomic and durable, for the store's snapshot: written beside, made
// durable, renamed over the old one, and the folder made durable. Framed and checksummed as
// log records are (wal.h), so a damaged file is an error, never silently half-read.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace gantry::store {

// `*renamed` (optional) tells whether the new file took the old one's place, even when an error
// came after (syncing the folder).
absl::Status WriteFileAtomically(const std::filesystem::path& path, std::string_view payload,
                                 bool* renamed = nullptr);

// nullopt when the file does not exist; DataLoss when it is damaged.
absl::StatusOr<std::optional<std::string>> ReadFramedFile(const std::filesystem::path& path);

// Makes a folder's entries (created, renamed or removed files) durable.
absl::Status SyncFolder(const std::filesystem::path& folder);

}  // namespace gantry::store
