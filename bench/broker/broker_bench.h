// broker_bench's parts: options, the tests, and the sink replica gantry delivers to.
#pragma once

#include <cstdint>
#include <string>

#include "core/address.h"

namespace gantry::bench {

struct Options {
  std::string system = "gantry";
  HostPort addr;
  HostPort sink;
  std::string test = "publish";
  int clients = 64;
  int lanes = 16;
  double rate = 10'000;
  double seconds = 5;
  uint16_t port = 0;
};

inline constexpr size_t kMessageBytes = 128;
inline constexpr const char* kPublishTopic = "bench.pub";
inline constexpr const char* kLatencyTopic = "bench.lat";

int RunPublish(const Options& o);  // publish.cc
int RunLatency(const Options& o);  // latency.cc
int RunSink(const Options& o);     // sink.cc

}  // namespace gantry::bench
