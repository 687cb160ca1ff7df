// Helpers for driving an EmbeddedStore from a test: a loop to run it on, a blocking wrapper
// around its callbacks, and a fresh folder per test.
#pragma once

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>

#include <gtest/gtest.h>

#include "net/asio.h"
#include "store/embedded_store.h"

namespace gantry::store::testing {

inline std::filesystem::path FreshDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("gantry-store-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Runs the loop until `done()` holds, for at most 10 s.
template <typename Pred>
bool RunUntil(net::asio::io_context& io, Pred done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    if (io.stopped()) io.restart();
    io.run_one_for(std::chrono::milliseconds(10));
  }
  return done();
}

// Runs the loop for `duration`: for what must not happen, or to let real time pass.
inline void RunFor(net::asio::io_context& io, std::chrono::milliseconds duration) {
  auto deadline = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < deadline) {
    if (io.stopped()) io.restart();
    io.run_one_for(std::chrono::milliseconds(10));
  }
}

// Starts a store call and waits for its result.
template <typename T, typename Start>
absl::StatusOr<T> Await(net::asio::io_context& io, Start start) {
  std::optional<absl::StatusOr<T>> out;
  start([&out](absl::StatusOr<T> result) { out = std::move(result); });
  if (!RunUntil(io, [&] { return out.has_value(); }))
    return absl::DeadlineExceededError("no answer in 10 s");
  return std::move(*out);
}

// Reads from `store` until one is answered, for up to 10 s: a new etcd member answers "no
// leader" until it has elected itself (a second or two).
inline void AwaitServing(net::asio::io_context& io, Store& store) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline &&
         !Await<RangeResult>(io, [&](Done<RangeResult> done) {
            store.Range({"", true}, std::move(done));
          }).ok()) {
  }
}

}  // namespace gantry::store::testing
