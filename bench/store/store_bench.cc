// Load generator for bench/store/run: drives gantry's KV API or etcd's JSON gateway with the
// same client, one thread, N keep-alive connections, and prints one JSON line of results.
//
//   store_bench --system gantry|etcd --addr 127.0.0.1:PORT --test put|get|range|watch
//               [--clients N] [--seconds S] [--max-ops N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include "core/address.h"
#include "core/base64.h"
#include "http_client.h"
#include "net/asio.h"

namespace gantry::bench {
namespace {

namespace asio = net::asio;
using net::tcp;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string system = "gantry";
  HostPort addr;
  std::string test = "put";
  int clients = 1;
  double seconds = 5;
  int64_t max_ops = 2'000'000;
};

const std::string kValue(64, 'v');
constexpr int kKeys = 1000;
constexpr int kRangeKeys = 100;

std::string Key(int64_t i) { return "bench/k" + std::to_string(i % kKeys); }
std::string RangeKey(int i) { return "bench/r/" + std::to_string(1000 + i); }

std::string EtcdJson(std::initializer_list<std::pair<const char*, std::string>> fields) {
  std::string out = "{";
  for (const auto& [name, value] : fields) {
    if (out.size() > 1) out += ",";
    out += "\"" + std::string(name) + "\":\"" + Base64Encode(value) + "\"";
  }
  return out + "}";
}

std::string PutRequest(const Options& o, const std::string& key) {
  if (o.system == "gantry") return Http("PUT", "/api/v1/kv/" + key, kValue);
  return Http("POST", "/v3/kv/put", EtcdJson({{"key", key}, {"value", kValue}}));
}

std::string GetRequest(const Options& o, const std::string& key) {
  if (o.system == "gantry") return Http("GET", "/api/v1/kv/" + key, "");
  return Http("POST", "/v3/kv/range", EtcdJson({{"key", key}}));
}

std::string RangeRequest(const Options& o) {
  if (o.system == "gantry") return Http("GET", "/api/v1/kv/bench/r/?prefix=true", "");
  return Http("POST", "/v3/kv/range", EtcdJson({{"key", "bench/r/"}, {"range_end", "bench/r0"}}));
}

// The last "revision": N (or "N") in a JSON body; 0 when there is none.
int64_t LastRevision(const std::string& body) {
  auto pos = body.rfind("\"revision\":");
  if (pos == std::string::npos) return 0;
  pos += 11;
  if (pos < body.size() && body[pos] == '"') ++pos;
  return std::strtoll(body.c_str() + pos, nullptr, 10);
}

struct Results {
  std::vector<double> latencies_us;
  int64_t errors = 0;
  int64_t issued = 0;
};

// One keep-alive connection sending `make(i)` until the time or op budget runs out.
template <typename Make>
asio::awaitable<void> Client(const Options& o, Make make, Clock::time_point end, Results& r) {
  tcp::socket socket = co_await Connect(o.addr);
  std::string buffer;
  while (Clock::now() < end && r.issued < o.max_ops) {
    std::string request = make(r.issued++);
    auto start = Clock::now();
    co_await asio::async_write(socket, asio::buffer(request), asio::use_awaitable);
    int status = co_await ReadResponse(socket, buffer, nullptr);
    if (status != 200) ++r.errors;
    r.latencies_us.push_back(
        std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
}

// A JSON string or number field's text ("token":5 -> "5", "key":"abc" -> "abc"); "" if absent.
std::string JsonField(const std::string& body, const std::string& name) {
  auto pos = body.find("\"" + name + "\":");
  if (pos == std::string::npos) return "";
  pos += name.size() + 3;
  if (pos < body.size() && body[pos] == '"') {
    auto end = body.find('"', pos + 1);
    return body.substr(pos + 1, end - pos - 1);
  }
  auto end = body.find_first_of(",}", pos);
  return body.substr(pos, end - pos);
}

// Lock acquire + release, uncontended (a lock name per client). gantry: POST then DELETE with
// the token (a lease per acquisition, as its API does). etcd: its lock service through the
// gateway with one session lease per client, granted once (how etcd clients use it):
// /v3/lock/lock then /v3/lock/unlock.
asio::awaitable<void> LockClient(const Options& o, int c, Clock::time_point end, Results& r) {
  tcp::socket socket = co_await Connect(o.addr);
  std::string buffer, body;
  std::string name = "bench-lock-" + std::to_string(c);
  std::string lease;
  if (o.system == "etcd") {
    co_await asio::async_write(
        socket, asio::buffer(Http("POST", "/v3/lease/grant", "{\"TTL\":60}")), asio::use_awaitable);
    if (co_await ReadResponse(socket, buffer, &body) != 200) throw std::runtime_error("lease");
    lease = JsonField(body, "ID");
  }
  while (Clock::now() < end && r.issued < o.max_ops) {
    ++r.issued;
    auto start = Clock::now();
    std::string acquire =
        o.system == "gantry"
            ? Http("POST", "/api/v1/locks/" + name, "{\"ttl\":\"10s\"}")
            : Http("POST", "/v3/lock/lock",
                   "{\"name\":\"" + Base64Encode(name) + "\",\"lease\":\"" + lease + "\"}");
    co_await asio::async_write(socket, asio::buffer(acquire), asio::use_awaitable);
    if (co_await ReadResponse(socket, buffer, &body) != 200) {
      ++r.errors;
      continue;
    }
    std::string release =
        o.system == "gantry"
            ? Http("DELETE", "/api/v1/locks/" + name + "?token=" + JsonField(body, "token"), "")
            : Http("POST", "/v3/lock/unlock", "{\"key\":\"" + JsonField(body, "key") + "\"}");
    co_await asio::async_write(socket, asio::buffer(release), asio::use_awaitable);
    if (co_await ReadResponse(socket, buffer, &body) != 200) ++r.errors;
    r.latencies_us.push_back(
        std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
}

// Sequential puts of one key with fresh values; per put, the time from sending it to receiving
// its watch event. gantry: long-polled ?watch=REV; etcd: the gateway's streamed /v3/watch.
asio::awaitable<void> WatchLatency(const Options& o, Clock::time_point end, Results& r) {
  tcp::socket writer = co_await Connect(o.addr);
  tcp::socket watcher = co_await Connect(o.addr);
  std::string wbuf, rbuf, body;
  const std::string key = "bench/w";
  // Learn the current revision with a first put.
  co_await asio::async_write(writer, asio::buffer(PutRequest(o, key)), asio::use_awaitable);
  co_await ReadResponse(writer, wbuf, &body);
  int64_t next = LastRevision(body) + 1;
  if (o.system == "etcd") {
    std::string create = "{\"create_request\":" + EtcdJson({{"key", key}}) + "}";
    co_await asio::async_write(watcher, asio::buffer(Http("POST", "/v3/watch", create)),
                               asio::use_awaitable);
    co_await asio::async_read_until(watcher, asio::dynamic_buffer(rbuf), "\"created\":true",
                                    asio::use_awaitable);
    rbuf.clear();
  }
  while (Clock::now() < end && r.issued < o.max_ops) {
    ++r.issued;
    auto start = Clock::now();
    if (o.system == "gantry") {
      std::string poll =
          Http("GET", "/api/v1/kv/" + key + "?watch=" + std::to_string(next) + "&wait=10s", "");
      co_await asio::async_write(watcher, asio::buffer(poll), asio::use_awaitable);
    }
    co_await asio::async_write(writer, asio::buffer(PutRequest(o, key)), asio::use_awaitable);
    if (o.system == "gantry") {
      co_await ReadResponse(watcher, rbuf, &body);
      if (body.find("\"events\":[]") != std::string::npos) ++r.errors;
      next = LastRevision(body) + 1;
    } else {
      co_await asio::async_read_until(watcher, asio::dynamic_buffer(rbuf), "\"events\"",
                                      asio::use_awaitable);
      rbuf.erase(0, rbuf.find("\"events\"") + 8);
    }
    r.latencies_us.push_back(
        std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    co_await ReadResponse(writer, wbuf, nullptr);
  }
}

asio::awaitable<void> Preload(const Options& o) {
  tcp::socket socket = co_await Connect(o.addr);
  std::string buffer;
  for (int i = 0; i < kKeys + kRangeKeys; ++i) {
    std::string key = i < kKeys ? Key(i) : RangeKey(i - kKeys);
    co_await asio::async_write(socket, asio::buffer(PutRequest(o, key)), asio::use_awaitable);
    if (co_await ReadResponse(socket, buffer, nullptr) != 200)
      throw std::runtime_error("preload put failed");
  }
}

int Run(const Options& o) {
  asio::io_context io(1);
  Results results;
  FirstFailure failure;
  auto on_done = failure.catcher();
  if (o.test == "get" || o.test == "range") {
    asio::co_spawn(io, Preload(o), on_done);
    io.run();
    io.restart();
  }
  auto start = Clock::now();
  auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  if (o.test == "watch") {
    asio::co_spawn(io, WatchLatency(o, end, results), on_done);
  } else if (o.test == "lock") {
    for (int c = 0; c < o.clients; ++c) asio::co_spawn(io, LockClient(o, c, end, results), on_done);
  } else {
    for (int c = 0; c < o.clients; ++c) {
      std::function<std::string(int64_t)> make;
      if (o.test == "put") make = [&o, c](int64_t i) { return PutRequest(o, Key(i * 7 + c)); };
      if (o.test == "get") make = [&o, c](int64_t i) { return GetRequest(o, Key(i * 7 + c)); };
      if (o.test == "range") make = [&o](int64_t) { return RangeRequest(o); };
      asio::co_spawn(io, Client(o, make, end, results), on_done);
    }
  }
  io.run();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (failure) return failure.Report("store_bench");
  auto& lat = results.latencies_us;
  std::sort(lat.begin(), lat.end());
  std::printf(
      "{\"system\":\"%s\",\"test\":\"%s\",\"clients\":%d,\"ops\":%zu,\"errors\":%lld,"
      "\"ops_per_s\":%.0f,\"p50_us\":%.0f,\"p99_us\":%.0f}\n",
      o.system.c_str(), o.test.c_str(), o.clients, lat.size(),
      static_cast<long long>(results.errors), static_cast<double>(lat.size()) / elapsed,
      Percentile(lat, 0.5), Percentile(lat, 0.99));
  return results.errors ? 1 : 0;
}

}  // namespace
}  // namespace gantry::bench

int main(int argc, char** argv) {
  gantry::bench::Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--system")
      o.system = value;
    else if (flag == "--addr")
      o.addr = *gantry::ParseHostPort(value);
    else if (flag == "--test")
      o.test = value;
    else if (flag == "--clients")
      o.clients = std::stoi(value);
    else if (flag == "--seconds")
      o.seconds = std::stod(value);
    else if (flag == "--max-ops")
      o.max_ops = std::stoll(value);
    else {
      std::fprintf(stderr, "store_bench: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (o.addr.port == 0 || (o.system != "gantry" && o.system != "etcd")) {
    std::fprintf(stderr,
                 "usage: store_bench --system gantry|etcd --addr HOST:PORT --test "
                 "put|get|range|watch|lock [--clients N] [--seconds S]\n");
    return 2;
  }
  return gantry::bench::Run(o);
}
