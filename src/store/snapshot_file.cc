#include "store/snapshot_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "store/wal.h"

namespace gantry::store {
namespace {

absl::Status Errno(std::string_view what, const std::filesystem::path& path) {
  int err = errno;
  std::string message = fmt::format("{} {}: {}", what, path.string(), std::strerror(err));
  if (err == ENOSPC || err == EDQUOT) return absl::ResourceExhaustedError("disk full: " + message);
  return absl::InternalError(message);
}

}  // namespace

absl::Status SyncFolder(const std::filesystem::path& folder) {
  int fd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", folder);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("cannot sync", folder);
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::filesystem::path& path, std::string_view payload,
                                 bool* renamed) {
  if (renamed) *renamed = false;
  if (payload.size() > UINT32_MAX) {
    return absl::ResourceExhaustedError(fmt::format(
        "{}: {} bytes is past the 4 GiB a framed file holds", path.string(), payload.size()));
  }
  std::filesystem::path temp = path;
  temp += ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create", temp);
  std::string framed = FrameRecord(payload);
  std::string_view rest = framed;
  while (!rest.empty()) {
    ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status status = Errno("cannot write", temp);
      ::close(fd);
      ::unlink(temp.c_str());
      return status;
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  if (::fsync(fd) != 0) {
    absl::Status status = Errno("cannot sync", temp);
    ::close(fd);
    ::unlink(temp.c_str());
    return status;
  }
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) return Errno("cannot rename", temp);
  if (renamed) *renamed = true;
  return SyncFolder(path.parent_path());
}

absl::StatusOr<std::optional<std::string>> ReadFramedFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(path)) return std::optional<std::string>();
    return absl::InternalError(fmt::format("cannot read {}", path.string()));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string data = buffer.str();
  // One frame spanning the whole file, checked here rather than by the log's replay: a
  // snapshot may be larger than any log record.
  if (data.size() < 8) return absl::DataLossError(fmt::format("{} is damaged", path.string()));
  std::string_view payload = std::string_view(data).substr(8);
  if (data.compare(0, 8, FrameHeader(payload)) != 0) {
    return absl::DataLossError(fmt::format("{} is damaged", path.string()));
  }
  return std::optional<std::string>(std::string(payload));
}

}  // namespace gantry::store
