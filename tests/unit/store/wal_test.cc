#include "store/wal.h"

#include <sys/mount.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

namespace gantry::store {
namespace {

std::filesystem::path FreshDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("gantry-wal-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::vector<std::string> ReplayAll(const std::filesystem::path& path, uint64_t* dropped = nullptr) {
  std::vector<std::string> records;
  auto wal = Wal::Open(path, [&](std::string_view r) {
    records.emplace_back(r);
    return absl::OkStatus();
  });
  EXPECT_TRUE(wal.ok()) << wal.status();
  if (dropped && wal.ok()) *dropped = (*wal)->dropped_tail_bytes();
  return records;
}

void AppendRaw(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << bytes;
}

TEST(Wal, AppendsAreReplayedInOrder) {
  auto path = FreshDir("order") / "wal";
  {
    auto wal = Wal::Open(path, [](std::string_view) { return absl::OkStatus(); });
    ASSERT_TRUE(wal.ok());
    ASSERT_TRUE((*wal)->Append({"one", "two"}).ok());
    ASSERT_TRUE((*wal)->Append({std::string("with\0nul", 8), "x"}).ok());
    EXPECT_EQ((*wal)->Append({""}).code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(ReplayAll(path),
            (std::vector<std::string>{"one", "two", std::string("with\0nul", 8), "x"}));
}

TEST(Wal, AZeroFilledTailIsCutOff) {
  // Some filesystems leave zeros past the last write after a crash; they frame as an empty
  // record, which is never written.
  auto path = FreshDir("zeros") / "wal";
  uint64_t end = 0;
  {
    auto wal = Wal::Open(path, [](std::string_view) { return absl::OkStatus(); });
    ASSERT_TRUE((*wal)->Append({"kept"}).ok());
    end = (*wal)->size();
  }
  // Appends leave zeros ahead of the records (preallocation): the same as a crash's zeros.
  EXPECT_GE(std::filesystem::file_size(path), end + Wal::kPreallocateBytes - 64);
  AppendRaw(path, std::string(4096, '\0'));
  uint64_t dropped = 0;
  EXPECT_EQ(ReplayAll(path, &dropped), std::vector<std::string>{"kept"});
  EXPECT_EQ(dropped, 0u);  // zeros are not damage
  EXPECT_EQ(std::filesystem::file_size(path), end);
}

TEST(Wal, TornTailIsCutOffAndAppendsGoOnCleanly) {
  auto path = FreshDir("torn") / "wal";
  {
    auto wal = Wal::Open(path, [](std::string_view) { return absl::OkStatus(); });
    ASSERT_TRUE((*wal)->Append({"kept"}).ok());
    std::filesystem::resize_file(path, (*wal)->size());  // no zeros ahead: the crash wrote here
  }
  std::string frame = FrameRecord("lost in the crash");
  AppendRaw(path, frame.substr(0, frame.size() - 3));  // a crash mid-append
  uint64_t dropped = 0;
  EXPECT_EQ(ReplayAll(path, &dropped), std::vector<std::string>{"kept"});
  EXPECT_EQ(dropped, frame.size() - 3);
  {
    auto wal = Wal::Open(path, [](std::string_view) { return absl::OkStatus(); });
    ASSERT_TRUE((*wal)->Append({"after"}).ok());
  }
  EXPECT_EQ(ReplayAll(path, &dropped), (std::vector<std::string>{"kept", "after"}));
  EXPECT_EQ(dropped, 0u);
}

TEST(Wal, CorruptRecordEndsTheLog) {
  auto path = FreshDir("corrupt") / "wal";
  std::string good = FrameRecord("good");
  std::string bad = FrameRecord("flipped");
  bad.back() ^= 0x01;
  AppendRaw(path, good + bad + FrameRecord("after the damage"));
  uint64_t dropped = 0;
  EXPECT_EQ(ReplayAll(path, &dropped), std::vector<std::string>{"good"});
  EXPECT_EQ(std::filesystem::file_size(path), good.size());
}

TEST(Wal, GarbageLengthDoesNotAllocateOrCrash) {
  auto path = FreshDir("garbage") / "wal";
  AppendRaw(path, FrameRecord("good") + std::string("\xff\xff\xff\x7f\0\0\0\0", 8));
  EXPECT_EQ(ReplayAll(path), std::vector<std::string>{"good"});
}

TEST(Wal, ReplayErrorAbortsOpen) {
  auto path = FreshDir("replay") / "wal";
  AppendRaw(path, FrameRecord("x"));
  auto wal = Wal::Open(path, [](std::string_view) { return absl::DataLossError("bad record"); });
  EXPECT_EQ(wal.status().code(), absl::StatusCode::kDataLoss);
}

TEST(Wal, DiskFullFailsTheAppendAndLosesNothingAcknowledged) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
  auto dir = FreshDir("full");
  ASSERT_EQ(::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=64k"), 0) << std::strerror(errno);
  std::vector<std::string> acknowledged;
  absl::Status failure;
  {
    auto wal = Wal::Open(dir / "wal", [](std::string_view) { return absl::OkStatus(); });
    ASSERT_TRUE(wal.ok());
    for (int i = 0; i < 1000; ++i) {
      std::string record = "record-" + std::to_string(i) + std::string(1000, 'x');
      failure = (*wal)->Append({record});
      if (!failure.ok()) break;
      acknowledged.push_back(record);
    }
    EXPECT_EQ(failure.code(), absl::StatusCode::kResourceExhausted) << failure;
    EXPECT_NE(failure.message().find("disk full"), std::string::npos);
    EXPECT_EQ((*wal)->size(), std::filesystem::file_size(dir / "wal"));  // cut back cleanly
  }
  EXPECT_GT(acknowledged.size(), 10u);
  EXPECT_EQ(ReplayAll(dir / "wal"), acknowledged);
  ASSERT_EQ(::umount(dir.c_str()), 0);
}

}  // namespace
}  // namespace gantry::store

#include "store/snapshot_file.h"

namespace gantry::store {
namespace {

TEST(SnapshotFile, LargerThanAnyLogRecordAndDamageIsAnError) {
  auto dir = FreshDir("snapshot");
  auto path = dir / "snapshot";
  EXPECT_FALSE(ReadFramedFile(path)->has_value());  // none yet
  std::string big((size_t{64} << 20) + 4096, 's');  // past the log's 64 MiB record limit
  big[12345] = 'x';
  ASSERT_TRUE(WriteFileAtomically(path, big).ok());
  auto read = ReadFramedFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(**read == big);
  AppendRaw(path, "!");
  EXPECT_EQ(ReadFramedFile(path).status().code(), absl::StatusCode::kDataLoss);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gantry::store
