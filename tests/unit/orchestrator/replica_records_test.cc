#include "orchestrator/replica_records.h"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "orchestrator/proc_stats.h"

namespace gantry::orchestrator {
namespace {

TEST(ReplicaRecords, SaveAndLoad) {
  auto file = std::filesystem::temp_directory_path() /
              ("gantry-records-" + std::to_string(::getpid()) + ".json");
  std::vector<ReplicaRecord> records = {{"web-1", "web", 1234, 5678, 20001, 2},
                                        {"web-2", "web", 1235, 5679, 20002, 0}};
  ASSERT_TRUE(SaveReplicaRecords(file, records).ok());
  auto loaded = LoadReplicaRecords(file);
  ASSERT_EQ(loaded.size(), 2u);
  EXPECT_EQ(loaded[0].id, "web-1");
  EXPECT_EQ(loaded[0].start_time, 5678u);
  EXPECT_EQ(loaded[1].port, 20002);
  EXPECT_EQ(loaded[0].restarts, 2);
  std::ofstream(file) << "[{\"id\": \"broken\"}, 7]";  // damaged entries adopt nothing
  EXPECT_TRUE(LoadReplicaRecords(file).empty());
  std::filesystem::remove(file);
  EXPECT_TRUE(LoadReplicaRecords(file).empty());  // no file: nothing to adopt
}

TEST(ReplicaRecords, StartTimeTellsProcessesApart) {
  auto mine = ProcessStartTime(::getpid());
  ASSERT_TRUE(mine);
  EXPECT_GT(*mine, 0u);
  EXPECT_EQ(ProcessStartTime(::getpid()), mine);  // stable for one process
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  // Exited but not reaped: a zombie is no process to adopt.
  for (int i = 0; i < 200 && ProcessStartTime(child); ++i) ::usleep(5000);
  EXPECT_FALSE(ProcessStartTime(child));
  ::waitpid(child, nullptr, 0);
  EXPECT_FALSE(ProcessStartTime(child));
  EXPECT_FALSE(ProcessStartTime(0));
}

}  // namespace
}  // namespace gantry::orchestrator
