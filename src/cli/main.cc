// gantry <verb>: flag parsing only; each verb lives in its own file.
#include <cstdio>

#include <algorithm>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "core/log.h"
#include "core/strings.h"
#include "version.h"

namespace gantry::cli {
namespace {

void AddLocatorFlags(CLI::App* command, AgentLocator& locator) {
  command->add_option("--api", locator.api,
                      "agent API address (default: GANTRY_API, then .gantry/agent.json)");
  command->add_option("--state-dir", locator.state_dir,
                      "state folder holding agent.json (default .gantry)");
}

// Verbs of the product contract that are not built yet: a clear answer, never silence.
void AddNotYet(CLI::App& app, const char* verb, const char* what, int& exit_code) {
  CLI::App* command = app.add_subcommand(verb, what);
  command->allow_extras();
  command->callback([verb, &exit_code] {
    std::fprintf(stderr, "gantry %s: not supported yet\n", verb);
    exit_code = 2;
  });
}

// A verb that is none of gantry's: one line naming the closest, as git does ("did you mean").
bool UnknownVerb(const CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--log-level") {
      ++i;  // and its value
      continue;
    }
    if (arg.starts_with("-")) continue;
    std::vector<std::string> verbs;
    for (const CLI::App* command : app.get_subcommands({})) verbs.push_back(command->get_name());
    if (std::find(verbs.begin(), verbs.end(), arg) != verbs.end()) return false;
    std::string line = fmt::format("gantry: \"{}\" is not a gantry command", arg);
    if (auto close = ClosestMatch(arg, verbs))
      line += fmt::format("; did you mean \"{}\"?", *close);
    std::fprintf(stderr, "%s (gantry --help lists them)\n", line.c_str());
    return true;
  }
  return false;
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"gantry: run a microservice app and everything around it, from one binary"};
  app.require_subcommand(1);
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "debug | info | warn | error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  int exit_code = 0;
  app.parse_complete_callback([&] {
    SetLogLevel(log_level == "debug"  ? LogLevel::kDebug
                : log_level == "info" ? LogLevel::kInfo
                : log_level == "warn" ? LogLevel::kWarn
                                      : LogLevel::kError);
  });

  UpFlags up;
  CLI::App* up_cmd = app.add_subcommand("up", "start the agent and run the app in the foreground");
  up_cmd->add_option("-f,--file", up.file, "app file (default gantry.yaml)");
  up_cmd->add_flag("-d,--detach", up.detach,
                   "run in the background (output in <state dir>/agent.log; gantry down stops it); "
                   "returns once every replica is healthy, printing the progress");
  up_cmd->add_flag("--no-wait", up.no_wait,
                   "with -d: return as soon as the agent runs, not when the app is ready");
  up_cmd
      ->add_option("--wait-timeout", up.wait_timeout,
                   "with -d: seconds to wait for the app to be ready (default 120); past it, "
                   "exit 1 (the app keeps running)")
      ->check(CLI::Range(1, 86400));
  up_cmd->add_option("--workers", up.workers, "proxy worker threads (default: one per core)")
      ->check(CLI::Range(1, 256));
  up_cmd->add_option("--api", up.api,
                     "agent API listen address (default 127.0.0.1:7700; port 0 picks one)");
  up_cmd->add_option("--gateway", up.gateway, "gateway listen address (overrides gateway.listen)");
  up_cmd->add_option("--mesh", up.mesh, "mesh listen address (overrides mesh.listen)");
  up_cmd->add_option("--state-dir", up.state_dir,
                     "logs and agent.json (default .gantry/ beside the app file)");
  up_cmd
      ->add_option("--max-connections", up.max_connections,
                   "client connections the gateway and mesh hold at most (default: as many as "
                   "the descriptor limit allows, after a reserve for the agent itself)")
      ->check(CLI::Range(1, 10000000));
  up_cmd->add_option("--access-log", up.access_log,
                     "write one JSON line per proxied request to this file (default: off)");
  up_cmd->add_flag("--no-tracing", up.no_tracing,
                   "record no spans (traceparent headers pass through unchanged)");
  up_cmd
      ->add_option("--trace-sample-rate", up.trace_sample_rate,
                   "share of traces kept when they have no error and no slow span (default 0.1)")
      ->check(CLI::Range(0.0, 1.0));
  up_cmd->add_option("--otlp-endpoint", up.otlp_endpoint,
                     "send kept traces to this OTLP/HTTP collector (http://host:4318)");
  up_cmd->add_option("--store", up.store,
                     "keep the app's state in etcd: etcd://host:port[,host:port...] (default: "
                     "the embedded store in the state folder)");
  up_cmd->add_option("--broker", up.broker,
                     "keep topics in NATS JetStream: nats://host:port[,host:port...][?replicas=N] "
                     "(default: the embedded broker in the state folder)");
  up_cmd->callback([&] { exit_code = Up(up); });

  std::filesystem::path validate_file = "gantry.yaml";
  CLI::App* validate_cmd = app.add_subcommand("validate", "check the app file");
  validate_cmd->add_option("-f,--file", validate_file, "app file (default gantry.yaml)");
  validate_cmd->callback([&] { exit_code = Validate(validate_file); });

  AgentLocator ps_locator;
  std::string ps_service, ps_output = "table";
  CLI::App* ps_cmd = app.add_subcommand("ps", "list replicas");
  ps_cmd->add_option("service", ps_service, "only this service");
  ps_cmd->add_option("-o,--output", ps_output, "table | json");
  AddLocatorFlags(ps_cmd, ps_locator);
  ps_cmd->callback([&] { exit_code = Ps(ps_locator, ps_service, ps_output); });

  LockFlags lock;
  CLI::App* lock_cmd = app.add_subcommand(
      "lock", "run a command while holding a lock (GANTRY_FENCING_TOKEN in its environment)");
  AddLocatorFlags(lock_cmd, lock.locator);
  lock_cmd->add_option("name", lock.name, "the lock's name")->required();
  lock_cmd->add_option("--ttl", lock.ttl, "the lock's lease, kept alive every third of it");
  lock_cmd->add_option("--wait", lock.wait, "how long to wait for the lock to come free");
  lock_cmd->add_option("command", lock.command, "the command, after --")->required();
  lock_cmd->callback([&] { exit_code = Lock(lock); });

  PubFlags pub;
  CLI::App* pub_cmd = app.add_subcommand("pub", "publish a message to a topic (durable)");
  AddLocatorFlags(pub_cmd, pub.locator);
  pub_cmd->add_option("topic", pub.topic, "the topic (made on first publish)")->required();
  pub_cmd->add_option("data", pub.data, "the message; absent: read standard input");
  pub_cmd->add_option("--key", pub.key, "ordering key");
  pub_cmd->add_option("--id", pub.id, "message id: a repeat within 2 minutes is dropped");
  pub_cmd->callback([&] { exit_code = Pub(pub); });

  TopFlags top;
  CLI::App* top_cmd = app.add_subcommand(
      "top", "live view per service: requests/s, errors, p50/p99, replicas, CPU, memory");
  AddLocatorFlags(top_cmd, top.locator);
  top_cmd->add_option("--interval", top.interval, "time between refreshes (default 1s)");
  top_cmd->add_option("-n,--iterations", top.iterations, "exit after this many refreshes")
      ->check(CLI::NonNegativeNumber);
  top_cmd->callback([&] { exit_code = Top(top); });

  SubFlags sub;
  CLI::App* sub_cmd =
      app.add_subcommand("sub", "follow a topic live, printing each message as it is published");
  AddLocatorFlags(sub_cmd, sub.locator);
  sub_cmd->add_option("topic", sub.topic, "the topic")->required();
  sub_cmd->add_option("--from", sub.from, "start at this offset (default: the next message)")
      ->check(CLI::NonNegativeNumber);
  sub_cmd->add_option("--count", sub.count, "exit after this many messages")
      ->check(CLI::NonNegativeNumber);
  sub_cmd->add_flag("--json", sub.json, "print each message as JSON (offset, id, key, payload...)");
  sub_cmd->callback([&] { exit_code = Sub(sub); });

  DlqFlags dlq;
  CLI::App* dlq_cmd = app.add_subcommand("dlq", "dead letters: ls, replay");
  dlq_cmd->require_subcommand(1);
  for (const char* verb : {"ls", "replay"}) {
    CLI::App* command = dlq_cmd->add_subcommand(
        verb, std::string(verb) == "ls" ? "list a topic's dead letters"
                                        : "publish a topic's dead letters to it again");
    AddLocatorFlags(command, dlq.locator);
    command->add_option("topic", dlq.topic, "the subscribed topic")->required();
    command->add_option("--dlq", dlq.dlq, "its dead-letter topic (default: TOPIC.dlq)");
    command->add_option("--from", dlq.from, "the first dead-letter offset");
    command->callback([&dlq, &exit_code, verb] {
      dlq.verb = verb;
      exit_code = Dlq(dlq);
    });
  }

  KvFlags kv;
  CLI::App* kv_cmd = app.add_subcommand("kv", "the KV store: get, put, del, ls, watch");
  kv_cmd->require_subcommand(1);
  auto add_kv_verb = [&](const char* verb, const char* what) {
    CLI::App* command = kv_cmd->add_subcommand(verb, what);
    AddLocatorFlags(command, kv.locator);
    command->callback([&, verb] {
      kv.verb = verb;
      exit_code = Kv(kv);
    });
    return command;
  };
  add_kv_verb("get", "print a key's value")->add_option("key", kv.key, "the key")->required();
  CLI::App* kv_put = add_kv_verb("put", "write a key (value from the argument or stdin)");
  kv_put->add_option("key", kv.key, "the key")->required();
  kv_put->add_option("value", kv.value, "the value; - or absent: read stdin");
  kv_put->add_option("--lease", kv.lease, "attach to this lease (the key goes when it ends)");
  kv_put->add_option("--cas", kv.cas, "write only if the key's mod revision is this (0: absent)");
  CLI::App* kv_del = add_kv_verb("del", "delete a key, or every key under a prefix");
  kv_del->add_option("key", kv.key, "the key or prefix")->required();
  kv_del->add_flag("--prefix", kv.prefix, "delete every key starting with it");
  kv_del->add_option("--cas", kv.cas, "delete only if the key's mod revision is this");
  CLI::App* kv_ls = add_kv_verb("ls", "list keys under a prefix");
  kv_ls->add_option("prefix", kv.key, "the prefix (default: every key)");
  kv_ls->add_option("-o,--output", kv.output, "table | json");
  CLI::App* kv_watch = add_kv_verb("watch", "print every change of a key or prefix");
  kv_watch->add_option("key", kv.key, "the key or prefix")->required();
  kv_watch->add_flag("--prefix", kv.prefix, "every key starting with it");
  kv_watch->add_option("--from", kv.from, "start at this revision (default: changes from now)");
  kv_watch->add_option("--count", kv.count, "exit after this many events");

  ScaleFlags scale;
  CLI::App* scale_cmd =
      app.add_subcommand("scale", "replica counts and limits: gantry scale web=3 api --cpus 1");
  scale_cmd->add_option("targets", scale.targets, "SERVICE=N, or SERVICE with --cpus/--memory")
      ->required();
  scale_cmd->add_option("--cpus", scale.cpus, "CPU limit per replica, in place (0: none)");
  scale_cmd->add_option("--memory", scale.memory, "memory limit per replica, e.g. 512M (0: none)");
  AddLocatorFlags(scale_cmd, scale.locator);
  scale_cmd->callback([&] { exit_code = Scale(scale); });

  AgentLocator events_locator;
  bool events_follow = false;
  std::string events_output = "table";
  CLI::App* events_cmd =
      app.add_subcommand("events", "starts, exits, restarts, stops, scaling, ejections");
  events_cmd->add_flag("-f,--follow", events_follow, "keep printing new events");
  events_cmd->add_option("-o,--output", events_output, "table | json (one object a line)");
  AddLocatorFlags(events_cmd, events_locator);
  events_cmd->callback([&] { exit_code = Events(events_locator, events_follow, events_output); });

  LogsFlags logs;
  CLI::App* logs_cmd =
      app.add_subcommand("logs", "replica output: gantry logs [-f] svc[/instance]");
  logs_cmd->add_option("target", logs.target, "a service, svc/instance, or an instance id")
      ->required();
  logs_cmd->add_flag("-f,--follow", logs.follow, "keep printing what the replicas write");
  logs_cmd->add_option("--tail", logs.tail,
                       "lines per replica to start with (0: all; default 100)");
  AddLocatorFlags(logs_cmd, logs.locator);
  logs_cmd->callback([&] { exit_code = Logs(logs); });

  AgentLocator restart_locator;
  std::vector<std::string> restart_services;
  CLI::App* restart_cmd = app.add_subcommand(
      "restart", "replace every replica of a service, without dropping requests");
  restart_cmd->add_option("services", restart_services, "SERVICE ...")->required();
  AddLocatorFlags(restart_cmd, restart_locator);
  restart_cmd->callback([&] { exit_code = Restart(restart_locator, restart_services); });

  ApplyFlags apply;
  CLI::App* apply_cmd =
      app.add_subcommand("apply", "roll out a changed app file: prints the difference first");
  apply_cmd->add_option("-f,--file", apply.file, "app file (default gantry.yaml)");
  apply_cmd->add_flag("--dry-run", apply.dry_run, "print the difference and change nothing");
  AddLocatorFlags(apply_cmd, apply.locator);
  apply_cmd->callback([&] { exit_code = Apply(apply); });

  AgentLocator down_locator;
  CLI::App* down_cmd = app.add_subcommand("down", "drain and stop an app started with up -d");
  AddLocatorFlags(down_cmd, down_locator);
  down_cmd->callback([&] { exit_code = Down(down_locator); });

  app.add_subcommand("version", "version and build info")->callback([&] { exit_code = Version(); });

  AddNotYet(app, "call", "one request through the mesh", exit_code);
  AddNotYet(app, "agent", "run one machine of a multi-machine deployment", exit_code);

  if (UnknownVerb(app, argc, argv)) return 2;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}

int Version() {
  std::printf("gantry %s (commit %s, GCC %d.%d, C++%ld)\n", kVersion, kGitCommit, __GNUC__,
              __GNUC_MINOR__, __cplusplus / 100 % 100);
  return 0;
}

}  // namespace gantry::cli

int main(int argc, char** argv) { return gantry::cli::Main(argc, argv); }
