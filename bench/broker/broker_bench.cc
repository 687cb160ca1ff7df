// Load generator for bench/broker/run: the same one-threaded client (Asio coroutines) drives
// gantry's topics API, NATS JetStream and Redis Streams, and prints one JSON line.
//
//   broker_bench --system gantry|nats|redis --addr HOST:PORT --test publish [--clients N]
//                [--seconds S]
//     Durable publish rate: N connections, each publishing 128-byte messages one after another,
//     each waiting for its acknowledgement (gantry: the offset, once on disk; JetStream: its
//     PubAck; Redis: XADD's id).
//   broker_bench --system ... --addr HOST:PORT --test latency --rate R [--lanes L] [--seconds S]
//                [--sink HOST:PORT]
//     Publish-to-delivery latency at a fixed rate (open loop: each message has a scheduled send
//     time, stamped into its payload; latency is delivery time minus that, so a stalled
//     publisher counts against the system). gantry pushes to a `sink` replica (this program with
//     --test sink), asked for its figures over HTTP; JetStream pushes to a durable consumer with
//     explicit acks; Redis is read by XREADGROUP and acknowledged by XACK.
//   broker_bench --test sink --port P   (P defaults to $PORT)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "broker/broker_bench.h"

int main(int argc, char** argv) {
  gantry::bench::Options o;
  if (const char* port = std::getenv("PORT")) o.port = static_cast<uint16_t>(std::atoi(port));
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--system") {
      o.system = value;
    } else if (flag == "--addr") {
      o.addr = *gantry::ParseHostPort(value);
    } else if (flag == "--sink") {
      o.sink = *gantry::ParseHostPort(value);
    } else if (flag == "--test") {
      o.test = value;
    } else if (flag == "--clients") {
      o.clients = std::stoi(value);
    } else if (flag == "--lanes") {
      o.lanes = std::stoi(value);
    } else if (flag == "--rate") {
      o.rate = std::stod(value);
    } else if (flag == "--seconds") {
      o.seconds = std::stod(value);
    } else if (flag == "--port") {
      o.port = static_cast<uint16_t>(std::stoi(value));
    } else {
      std::fprintf(stderr, "broker_bench: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (o.test == "sink") return gantry::bench::RunSink(o);
  bool known = o.system == "gantry" || o.system == "nats" || o.system == "redis";
  if (!known || o.addr.port == 0 || (o.test != "publish" && o.test != "latency") ||
      (o.test == "latency" && o.system == "gantry" && o.sink.port == 0)) {
    std::fprintf(stderr,
                 "usage: broker_bench --system gantry|nats|redis --addr HOST:PORT --test "
                 "publish|latency [--clients N] [--rate R] [--lanes L] [--seconds S] "
                 "[--sink HOST:PORT]\n       broker_bench --test sink [--port P]\n");
    return 2;
  }
  return o.test == "publish" ? gantry::bench::RunPublish(o) : gantry::bench::RunLatency(o);
}
