// One function per `gantry <verb>`; each returns the process exit code.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace gantry::cli {

// How a command finds the agent: --api, then GANTRY_API, then <state dir>/agent.json.
struct AgentLocator {
  std::string api;                  // --api
  std::filesystem::path state_dir;  // --state-dir, default ./.gantry
};

struct UpFlags {
  std::filesystem::path file = "gantry.yaml";
  bool detach = false;
  bool no_wait = false;    // with -d: return once the agent's API is up, not when the app is ready
  int wait_timeout = 120;  // seconds up -d waits for the app to be ready
  int workers = 0;         // 0: one per core
  std::string api, gateway, mesh;
  std::filesystem::path state_dir;
  size_t max_connections = 0;      // client connections the proxy holds at most; 0: by the limit
  std::string access_log;          // the proxy's JSON access log; "": none
  bool no_tracing = false;         // --no-tracing: no spans, traceparent passed on untouched
  double trace_sample_rate = 0.1;  // of traces without errors or slow spans
  std::string otlp_endpoint;       // --otlp-endpoint: an OTLP/HTTP collector for kept spans
  std::string store;               // --store etcd://h:p,...: "" for the embedded store
  std::string broker;              // --broker nats://h:p,...: not supported yet
};

struct LockFlags {
  AgentLocator locator;
  std::string name;
  std::string ttl = "10s";   // the lease's; kept alive every third of it
  std::string wait = "60s";  // for the lock to come free
  std::vector<std::string> command;
};
// gantry lock NAME [--ttl D] [--wait D] -- cmd args: runs the command while holding the lock
// (GANTRY_FENCING_TOKEN in its environment), releases it when the command ends, and stops the
// command (SIGTERM, then SIGKILL after 5 s) if the lock's lease is lost. Exits with the
// command's status; 3 when the lock was lost, 2 when it could not be taken.
int Lock(const LockFlags& flags);

struct PubFlags {
  AgentLocator locator;
  std::string topic;
  std::optional<std::string> data;  // absent: read stdin
  std::string key;                  // --key: ordering key
  std::string id;                   // --id: message id (a repeat within the window is dropped)
};
int Pub(const PubFlags& flags);

struct TopFlags {
  AgentLocator locator;
  std::string interval = "1s";  // between refreshes
  int64_t iterations = 0;       // -n: refreshes to show before exiting; 0: until interrupted
};
int Top(const TopFlags& flags);

struct SubFlags {
  AgentLocator locator;
  std::string topic;
  std::optional<int64_t> from;  // --from: the first offset; absent: the next message published
  int64_t count = 0;            // --count: stop after this many; 0: run until interrupted
  bool json = false;            // --json: the whole message as JSON, one per line
};
int Sub(const SubFlags& flags);

struct DlqFlags {
  std::string verb;  // ls | replay
  AgentLocator locator;
  std::string topic;  // the subscribed topic
  std::string dlq;    // --dlq: its dead-letter topic when not "<topic>.dlq"
  int64_t from = 0;   // --from: the first dead-letter offset
};
int Dlq(const DlqFlags& flags);

struct KvFlags {
  std::string verb;  // get | put | del | ls | watch
  AgentLocator locator;
  std::string key;                   // for ls: the prefix
  std::optional<std::string> value;  // put; absent or "-": read stdin
  std::string lease;                 // put --lease ID
  std::optional<int64_t> cas;        // put/del --cas REV
  bool prefix = false;               // del, watch
  int64_t from = 0;                  // watch --from REV (0: from now on)
  int64_t count = 0;                 // watch --count N: exit after N events
  std::string output = "table";      // ls -o
};

struct LogsFlags {
  AgentLocator locator;
  std::string target;  // svc, svc/instance, or an instance id
  bool follow = false;
  uint64_t tail = 100;  // lines per replica; 0: all kept
};

struct ApplyFlags {
  AgentLocator locator;
  std::filesystem::path file = "gantry.yaml";
  bool dry_run = false;
};

int Up(const UpFlags& flags);
int Apply(const ApplyFlags& flags);
int Down(const AgentLocator& locator);
int Logs(const LogsFlags& flags);
int Kv(const KvFlags& flags);
int Validate(const std::filesystem::path& file);
int Ps(const AgentLocator& locator, const std::string& service, const std::string& output);
struct ScaleFlags {
  AgentLocator locator;
  std::vector<std::string> targets;   // SERVICE=N, or SERVICE with --cpus/--memory
  std::optional<double> cpus;         // 0: no limit
  std::optional<std::string> memory;  // "512M"; "0": no limit
};
int Scale(const ScaleFlags& flags);
int Events(const AgentLocator& locator, bool follow, const std::string& output);
int Restart(const AgentLocator& locator, const std::vector<std::string>& services);
int Version();

}  // namespace gantry::cli
