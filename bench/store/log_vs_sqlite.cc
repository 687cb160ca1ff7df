// The embedded store's durable file, measured: gantry's write-ahead log against SQLite in WAL
// mode (synchronous=FULL), both with the same group commit (one durable commit per batch), on
// the same disk, in one run. Prints puts/s and commits/s of each, and the ratio.
//
//   log_vs_sqlite [--dir DIR] [--batches N] [--batch-size N] [--value-bytes N]
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "store/record.h"
#include "store/wal.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "gantry-log-vs-sqlite";
  int batches = 2000;
  int batch_size = 64;
  int value_bytes = 64;
};

struct Result {
  double seconds = 0;
};

std::string Key(int batch, int i) { return "bench/k" + std::to_string((batch * 64 + i) % 1000); }

Result RunLog(const Options& o) {
  auto dir = o.dir / "log";
  std::filesystem::create_directories(dir);
  auto wal =
      gantry::store::Wal::Open(dir / "wal-0", [](std::string_view) { return absl::OkStatus(); });
  if (!wal.ok()) throw std::runtime_error(std::string(wal.status().message()));
  std::string value(static_cast<size_t>(o.value_bytes), 'v');
  auto start = Clock::now();
  for (int b = 0; b < o.batches; ++b) {
    std::vector<std::string> records;
    records.reserve(static_cast<size_t>(o.batch_size));
    for (int i = 0; i < o.batch_size; ++i) {
      gantry::store::TxnRequest txn;
      txn.success.push_back(gantry::store::TxnOp::Put(Key(b, i), value));
      records.push_back(gantry::store::EncodeRecord(txn));
    }
    if (!(*wal)->Append(records).ok()) throw std::runtime_error("append failed");
  }
  return {std::chrono::duration<double>(Clock::now() - start).count()};
}

void Check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    throw std::runtime_error(std::string(what) + ": " + sqlite3_errmsg(db));
}

Result RunSqlite(const Options& o) {
  auto dir = o.dir / "sqlite";
  std::filesystem::create_directories(dir);
  sqlite3* db = nullptr;
  Check(sqlite3_open((dir / "store.db").c_str(), &db), db, "open");
  Check(sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE kv (key BLOB PRIMARY KEY, value BLOB, create_rev INTEGER,"
                     " mod_rev INTEGER, version INTEGER, lease INTEGER) WITHOUT ROWID;",
                     nullptr, nullptr, nullptr),
        db, "setup");
  sqlite3_stmt* put = nullptr;
  Check(sqlite3_prepare_v2(db,
                           "INSERT INTO kv VALUES (?1, ?2, ?3, ?3, 1, 0) ON CONFLICT(key) DO UPDATE"
                           " SET value = ?2, mod_rev = ?3, version = version + 1",
                           -1, &put, nullptr),
        db, "prepare");
  std::string value(static_cast<size_t>(o.value_bytes), 'v');
  int64_t revision = 1;
  auto start = Clock::now();
  for (int b = 0; b < o.batches; ++b) {
    Check(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), db, "begin");
    for (int i = 0; i < o.batch_size; ++i) {
      std::string key = Key(b, i);
      sqlite3_bind_blob(put, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
      sqlite3_bind_blob(put, 2, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
      sqlite3_bind_int64(put, 3, ++revision);
      Check(sqlite3_step(put), db, "put");
      sqlite3_reset(put);
    }
    Check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  sqlite3_finalize(put);
  sqlite3_close(db);
  return {seconds};
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--dir")
      o.dir = value;
    else if (flag == "--batches")
      o.batches = std::stoi(value);
    else if (flag == "--batch-size")
      o.batch_size = std::stoi(value);
    else if (flag == "--value-bytes")
      o.value_bytes = std::stoi(value);
    else {
      std::fprintf(stderr, "log_vs_sqlite: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  try {
    for (int round = 1; round <= 3; ++round) {
      std::filesystem::remove_all(o.dir);
      Result log = RunLog(o);
      Result sqlite = RunSqlite(o);
      double puts = static_cast<double>(o.batches) * o.batch_size;
      std::printf(
          "round %d, %d batches of %d puts (%d-byte values): log %.0f puts/s (%.0f syncs/s) | "
          "sqlite %.0f puts/s (%.0f commits/s) | log/sqlite %.2fx\n",
          round, o.batches, o.batch_size, o.value_bytes, puts / log.seconds,
          o.batches / log.seconds, puts / sqlite.seconds, o.batches / sqlite.seconds,
          sqlite.seconds / log.seconds);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "log_vs_sqlite: %s\n", e.what());
    return 1;
  }
  std::filesystem::remove_all(o.dir);
  return 0;
}
