// The app file's schema: which keys exist at each level and what type each takes.
#include "config/app_file.h"

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include <fmt/format.h>

#include "config/app_checks.h"
#include "config/policy_file.h"
#include "config/yaml_reader.h"
#include "core/address.h"
#include "core/size.h"
#include "core/status.h"

namespace gantry::config {

std::string ConfigError::ToString() const {
  if (line == 0) return fmt::format("{}: {}", file, message);
  return fmt::format("{}:{}:{}: {}", file, line, column, message);
}

namespace {

void ParseHealth(const Entry& block, HealthSpec& health, Diagnostics& diag) {
  MapReader r(block.value, block.value_at, block.path, diag);
  if (!r.is_map()) return;
  const Entry* http = r.Take("http");
  const Entry* tcp = r.Take("tcp");
  const Entry* ttl = r.Take("ttl");
  const Entry* grpc = r.Take("grpc");
  if ((http != nullptr) + (tcp != nullptr) + (ttl != nullptr) + (grpc != nullptr) > 1) {
    const Entry* second = grpc ? grpc : ttl ? ttl : tcp;
    diag.Add(second->key_at, fmt::format("{}: give one of http, tcp, grpc or ttl", block.path));
  }
  if (http) {
    if (auto path = ReadString(*http, diag)) {
      if (!path->starts_with("/")) {
        diag.Add(http->value_at, fmt::format("{}: must be a path starting with /", http->path));
      }
      health.kind = HealthSpec::Kind::kHttp;
      health.http_path = *path;
    }
  } else if (tcp) {
    if (auto on = ReadBool(*tcp, diag))
      health.kind = *on ? HealthSpec::Kind::kTcp : HealthSpec::Kind::kNone;
  } else if (grpc) {
    // `grpc: true` asks about the whole server; `grpc: name` about one service of it.
    if (grpc->value.IsScalar() &&
        (grpc->value.Scalar() == "true" || grpc->value.Scalar() == "false")) {
      if (auto on = ReadBool(*grpc, diag))
        health.kind = *on ? HealthSpec::Kind::kGrpc : HealthSpec::Kind::kNone;
    } else if (auto name = ReadString(*grpc, diag)) {
      health.kind = HealthSpec::Kind::kGrpc;
      health.grpc_service = *name;
    }
  } else if (ttl) {
    if (auto d = ReadDuration(*ttl, diag)) {
      if (*d < std::chrono::seconds(1) || *d > std::chrono::hours(24)) {
        diag.Add(ttl->value_at, fmt::format("{}: must be from 1s to 24h", ttl->path));
      }
      health.kind = HealthSpec::Kind::kTtl;
      health.ttl = *d;
    }
  } else if (!r.entries().empty()) {
    diag.Add(block.key_at, fmt::format("{}: needs a check: http: /path, tcp: true, grpc: true or "
                                       "ttl: 10s",
                                       block.path));
  }
  auto positive_duration = [&](const char* key, Duration& out) {
    if (const Entry* e = r.Take(key)) {
      if (auto d = ReadDuration(*e, diag)) {
        if (d->count() <= 0) diag.Add(e->value_at, fmt::format("{}: must be more than 0", e->path));
        out = *d;
      }
    }
  };
  positive_duration("interval", health.interval);
  positive_duration("timeout", health.timeout);
  auto threshold = [&](const char* key, int& out) {
    if (const Entry* e = r.Take(key)) {
      if (auto n = ReadInt(*e, diag)) {
        if (*n < 1) diag.Add(e->value_at, fmt::format("{}: must be at least 1", e->path));
        out = *n;
      }
    }
  };
  threshold("healthy_after", health.healthy_after);
  threshold("unhealthy_after", health.unhealthy_after);
  r.Finish();
}

void ParseResources(const Entry& block, ResourcesSpec& resources, Diagnostics& diag) {
  MapReader r(block.value, block.value_at, block.path, diag);
  if (!r.is_map()) return;
  if (const Entry* e = r.Take("cpus")) {
    double cpus = 0;
    if (!e->value.IsScalar() || !YAML::convert<double>::decode(e->value, cpus) || cpus <= 0 ||
        cpus > ResourcesSpec::kMaxCpus) {
      diag.Add(e->value_at,
               fmt::format("{}: expected a number of CPUs above 0, e.g. 0.5", e->path));
    }
    resources.cpus = cpus;
  }
  if (const Entry* e = r.Take("memory")) {
    if (auto text = ReadString(*e, diag)) {
      auto size = ParseSize(*text);
      if (!size.ok()) {
        diag.Add(e->value_at, fmt::format("{}: {}", e->path, StatusMessage(size.status())));
      } else if (*size < ResourcesSpec::kMinMemory) {
        diag.Add(e->value_at,
                 fmt::format("{}: at least {}", e->path, FormatSize(ResourcesSpec::kMinMemory)));
      } else {
        resources.memory = *size;
      }
    }
  }
  r.Finish();
}

void ParseAutoscale(const Entry& block, AutoscaleSpec& autoscale, Diagnostics& diag) {
  MapReader r(block.value, block.value_at, block.path, diag);
  if (!r.is_map()) return;
  autoscale.enabled = true;
  for (auto [key, out] : {std::pair{"min", &autoscale.min}, {"max", &autoscale.max}}) {
    if (const Entry* e = r.Take(key)) {
      if (auto n = ReadInt(*e, diag)) {
        if (*n < 0 || *n > 1000)
          diag.Add(e->value_at, fmt::format("{}: must be from 0 to 1000", e->path));
        *out = *n;
      }
    } else {
      diag.Add(block.key_at, fmt::format("{}: missing {}", block.path, key));
    }
  }
  auto number = [&](const char* key, double& out, double high) {
    if (const Entry* e = r.Take(key)) {
      double value = 0;
      if (!e->value.IsScalar() || !YAML::convert<double>::decode(e->value, value) || value <= 0 ||
          value > high) {
        diag.Add(e->value_at,
                 fmt::format("{}: expected a number above 0 and at most {:g}", e->path, high));
      }
      out = value;
    }
  };
  number("target_rps", autoscale.target_rps, 1e9);
  number("target_cpu", autoscale.target_cpu, 1);
  for (auto [key, out] : {std::pair{"up_window", &autoscale.up_window},
                          {"down_window", &autoscale.down_window},
                          {"cooldown", &autoscale.cooldown},
                          {"interval", &autoscale.interval}}) {
    if (const Entry* e = r.Take(key)) {
      if (auto d = ReadDuration(*e, diag)) *out = *d;
    }
  }
  r.Finish();
  if (autoscale.max < autoscale.min) {
    diag.Add(block.key_at, fmt::format("{}: max must not be below min", block.path));
  }
  if (autoscale.target_rps <= 0 && autoscale.target_cpu <= 0) {
    diag.Add(block.key_at, fmt::format("{}: give target_rps, target_cpu or both", block.path));
  }
  if (autoscale.interval < std::chrono::milliseconds(100)) {
    diag.Add(block.key_at, fmt::format("{}: interval must be at least 100ms", block.path));
  }
}

void ParseUpdate(const Entry& block, UpdateSpec& update, Diagnostics& diag) {
  MapReader r(block.value, block.value_at, block.path, diag);
  if (!r.is_map()) return;
  for (auto [key, out] :
       {std::pair{"max_surge", &update.max_surge}, {"max_unavailable", &update.max_unavailable}}) {
    if (const Entry* e = r.Take(key)) {
      if (auto n = ReadInt(*e, diag)) {
        if (*n < 0 || *n > 100) {
          diag.Add(e->value_at, fmt::format("{}: must be from 0 to 100", e->path));
        }
        *out = *n;
      }
    }
  }
  if (const Entry* e = r.Take("deadline")) {
    if (auto d = ReadDuration(*e, diag)) {
      if (d->count() <= 0) diag.Add(e->value_at, fmt::format("{}: must be more than 0", e->path));
      update.deadline = *d;
    }
  }
  r.Finish();
  if (update.max_surge == 0 && update.max_unavailable == 0) {
    diag.Add(block.key_at, fmt::format("{}: max_surge and max_unavailable cannot both be 0 "
                                       "(nothing could be replaced)",
                                       block.path));
  }
}

void ParseSubscribe(const Entry& e, ServiceSpec& service, Diagnostics& diag) {
  if (!e.value.IsSequence()) {
    diag.Add(e.value_at, fmt::format("{}: expected a list of {{ topic, path }}", e.path));
    return;
  }
  static const std::regex kTopic("[A-Za-z0-9._-]{1,200}");
  for (size_t i = 0; i < e.value.size(); ++i) {
    std::string path = fmt::format("{}[{}]", e.path, i);
    Location at = LocationOf(e.value[i].Mark());
    MapReader r(e.value[i], at, path, diag);
    if (!r.is_map()) continue;
    SubscribeSpec& sub = service.subscribe.emplace_back();
    sub.location = at;
    if (const Entry* t = r.Take("topic")) {
      if (auto topic = ReadString(*t, diag)) {
        if (!std::regex_match(*topic, kTopic)) {
          diag.Add(t->value_at, fmt::format("{}: a topic is 1 to 200 of A-Za-z0-9._-", t->path));
        }
        sub.topic = *topic;
      }
    } else {
      diag.Add(at, fmt::format("{}: needs a topic", path));
    }
    if (const Entry* p = r.Take("path")) {
      if (auto text = ReadString(*p, diag)) {
        if (!text->starts_with("/"))
          diag.Add(p->value_at, fmt::format("{}: must start with /", p->path));
        sub.path = *text;
      }
    } else {
      diag.Add(at, fmt::format("{}: needs a path (where messages are POSTed)", path));
    }
    if (const Entry* d = r.Take("dead_letter")) {
      if (auto text = ReadString(*d, diag)) sub.dead_letter = *text;
    }
    if (sub.dead_letter.empty()) sub.dead_letter = sub.topic + ".dlq";
    ReadBounded(r, "max_deliver", 1, 1000, sub.max_deliver, diag);
    if (const Entry* o = r.Take("ordered")) {
      if (auto ordered = ReadBool(*o, diag)) sub.ordered = *ordered;
    }
    r.Finish();
  }
}

void ParseService(const Entry& block, ServiceSpec& s, References& refs, Diagnostics& diag) {
  MapReader r(block.value, block.value_at, block.path, diag);
  if (!r.is_map()) return;
  if (const Entry* e = r.Take("command")) {
    if (e->value.IsScalar()) {
      diag.Add(
          e->value_at,
          fmt::format("{}: must be a list (argv, no shell), e.g. [./bin/app, --flag]", e->path));
    } else if (auto argv = ReadStringList(*e, diag)) {
      if (argv->empty()) diag.Add(e->value_at, fmt::format("{}: must not be empty", e->path));
      for (auto& item : *argv) s.command.push_back(item.value);
    }
  } else {
    diag.Add(block.key_at, fmt::format("{}: missing command", block.path));
  }
  if (const Entry* e = r.Take("env")) {
    if (auto env = ReadStringMap(*e, diag)) s.env = std::move(*env);
  }
  bool replicas_given = false;
  if (const Entry* e = r.Take("replicas")) {
    replicas_given = true;
    if (auto n = ReadInt(*e, diag)) {
      if (*n < 0)
        diag.Add(e->value_at, fmt::format("{}: must not be negative, got {}", e->path, *n));
      s.replicas = *n;
    }
  }
  if (const Entry* e = r.Take("protocol")) {
    if (auto p = ReadString(*e, diag)) {
      if (*p == "grpc") {
        s.protocol = ServiceSpec::Protocol::kGrpc;
      } else if (*p == "tcp") {
        diag.Add(e->value_at,
                 fmt::format("{}: \"{}\" is not supported yet (http and grpc are)", e->path, *p));
      } else if (*p != "http") {
        ReportBadChoice(*e, *p, {"http", "grpc", "tcp"}, diag);
      }
    }
  }
  if (const Entry* e = r.Take("health")) ParseHealth(*e, s.health, diag);
  if (const Entry* e = r.Take("restart")) {
    if (auto p = ReadString(*e, diag)) {
      if (*p == "always")
        s.restart = RestartPolicy::kAlways;
      else if (*p == "on-failure")
        s.restart = RestartPolicy::kOnFailure;
      else if (*p == "never")
        s.restart = RestartPolicy::kNever;
      else
        ReportBadChoice(*e, *p, {"always", "on-failure", "never"}, diag);
    }
  }
  if (const Entry* e = r.Take("depends_on")) {
    if (auto deps = ReadStringList(*e, diag)) {
      for (auto& dep : *deps) {
        s.depends_on.push_back(dep.value);
        refs.Add(dep.value, dep.at, e->path);
      }
    }
  }
  if (const Entry* e = r.Take("stop_grace")) {
    if (auto d = ReadDuration(*e, diag)) s.stop_grace = *d;
  }
  if (const Entry* e = r.Take("policy")) ParsePolicy(*e, s.policy, diag);
  if (const Entry* e = r.Take("resources")) ParseResources(*e, s.resources, diag);
  if (const Entry* e = r.Take("update")) ParseUpdate(*e, s.update, diag);
  if (const Entry* e = r.Take("autoscale")) {
    ParseAutoscale(*e, s.autoscale, diag);
    // Replicas start inside the bounds; without `replicas`, at the minimum.
    s.replicas = std::clamp(replicas_given ? s.replicas : s.autoscale.min, s.autoscale.min,
                            std::max(s.autoscale.min, s.autoscale.max));
  }
  if (const Entry* e = r.Take("subscribe")) ParseSubscribe(*e, s, diag);
  r.Finish();
}

void ParseServices(const Entry& block, AppSpec& spec, References& refs, Diagnostics& diag) {
  if (!block.value.IsMap()) {
    diag.Add(block.value_at, "services: expected a mapping of service name to its settings");
    return;
  }
  static const std::regex kName("[a-z0-9][a-z0-9_-]{0,62}");
  std::unordered_map<std::string, Location> first_at;  // services so far, by name
  for (auto it = block.value.begin(); it != block.value.end(); ++it) {
    Location at = LocationOf(it->first.Mark());
    std::string name = it->first.IsScalar() ? it->first.Scalar() : "";
    if (!std::regex_match(name, kName)) {
      diag.Add(at, fmt::format("services: bad service name \"{}\": use lowercase letters, digits, "
                               "'-' and '_' (at most 63)",
                               name));
      continue;
    }
    if (auto [first, added] = first_at.emplace(name, at); !added) {
      diag.Add(at, fmt::format("services: duplicate service \"{}\" (first defined at {}:{})", name,
                               first->second.line, first->second.column));
      continue;
    }
    ServiceSpec& s = spec.services.emplace_back();
    s.name = name;
    s.location = at;
    Location value_at = it->second.IsNull() ? at : LocationOf(it->second.Mark());
    ParseService(Entry{"services." + name, it->second, at, value_at}, s, refs, diag);
  }
}

void ParseListen(const Entry& e, std::string& out, Diagnostics& diag) {
  if (auto text = ReadString(e, diag)) {
    auto parsed = ParseHostPort(*text);
    if (!parsed.ok())
      diag.Add(e.value_at, fmt::format("{}: {}", e.path, StatusMessage(parsed.status())));
    out = *text;
  }
}

void ParseRoute(const YAML::Node& node, size_t index, const Entry& list, AppSpec& spec,
                References& refs, Diagnostics& diag) {
  std::string path = fmt::format("{}[{}]", list.path, index);
  Location at = LocationOf(node.Mark());
  MapReader r(node, at, path, diag);
  if (!r.is_map()) return;
  RouteSpec& route = spec.gateway.routes.emplace_back();
  route.location = at;
  const Entry* path_entry = r.Take("path");
  const Entry* host_entry = r.Take("host");
  if (path_entry) {
    if (auto p = ReadString(*path_entry, diag)) {
      if (!p->starts_with("/")) {
        diag.Add(path_entry->value_at, fmt::format("{}: must start with /", path_entry->path));
      }
      route.path = *p;
    }
  }
  if (host_entry) {
    if (auto h = ReadString(*host_entry, diag)) {
      // Requests are matched by their lowercased host without a port: say so for other forms.
      static const std::regex kHost("[a-z0-9]([a-z0-9.-]*[a-z0-9])?");
      if (!std::regex_match(*h, kHost)) {
        diag.Add(
            host_entry->value_at,
            fmt::format("{}: \"{}\" is not a host name: use lowercase letters, digits, '.' and "
                        "'-', without a port",
                        host_entry->path, *h));
      }
      route.host = *h;
    }
  }
  if (!path_entry && !host_entry) diag.Add(at, fmt::format("{}: needs a path or a host", path));
  if (const Entry* e = r.Take("service")) {
    if (auto name = ReadString(*e, diag)) {
      route.service = *name;
      refs.Add(*name, e->value_at, e->path);
    }
  } else {
    diag.Add(at, fmt::format("{}: missing service", path));
  }
  if (const Entry* e = r.Take("strip_prefix")) {
    if (auto b = ReadBool(*e, diag)) route.strip_prefix = *b;
  }
  if (const Entry* e = r.Take("methods")) {
    if (auto methods = ReadStringList(*e, diag)) {
      for (const ListItem& method : *methods) {
        static const std::regex kMethod("[A-Z]{1,20}");
        if (!std::regex_match(method.value, kMethod)) {
          diag.Add(method.at, fmt::format("{}: \"{}\" is not a method name such as GET", e->path,
                                          method.value));
        }
        route.methods.push_back(method.value);
      }
    }
  }
  if (const Entry* e = r.Take("rate_limit")) ParseRateLimit(*e, route.rate_limit, diag);
  r.NotSupportedYet("auth");
  r.Finish();
}

void ParseTlsCert(const YAML::Node& node, const std::string& path, const AppSpec& spec,
                  std::vector<TlsCertSpec>& out, Diagnostics& diag) {
  Location at = LocationOf(node.Mark());
  MapReader r(node, at, path, diag);
  if (!r.is_map()) return;
  TlsCertSpec& cert = out.emplace_back();
  cert.location = at;
  for (auto [key, target] : {std::pair{"cert", &cert.cert}, std::pair{"key", &cert.key}}) {
    const Entry* e = r.Take(key);
    if (!e) {
      diag.Add(at, fmt::format("{}: needs {} (a PEM file)", path, key));
      continue;
    }
    auto text = ReadString(*e, diag);
    if (!text) continue;
    std::filesystem::path file(*text);
    if (file.is_relative()) file = spec.directory / file;
    std::error_code error;
    if (!std::filesystem::is_regular_file(file, error)) {
      diag.Add(e->value_at, fmt::format("{}: no such file: {}", e->path, file.string()));
    }
    *target = file;
  }
  r.Finish();
}

void ParseGatewayTls(const Entry& e, AppSpec& spec, Diagnostics& diag) {
  if (e.value.IsSequence()) {
    if (e.value.size() == 0) diag.Add(e.value_at, fmt::format("{}: list no certificate", e.path));
    for (size_t i = 0; i < e.value.size(); ++i) {
      ParseTlsCert(e.value[i], fmt::format("{}[{}]", e.path, i), spec, spec.gateway.tls, diag);
    }
  } else {
    ParseTlsCert(e.value, e.path, spec, spec.gateway.tls, diag);
  }
}

void ParseGateway(const Entry& block, AppSpec& spec, References& refs, Diagnostics& diag) {
  MapReader r(block.value, block.value_at, block.path, diag);
  if (!r.is_map()) return;
  if (const Entry* e = r.Take("listen")) ParseListen(*e, spec.gateway.listen, diag);
  if (const Entry* e = r.Take("routes")) {
    if (!e->value.IsSequence()) {
      diag.Add(e->value_at, fmt::format("{}: expected a list of routes", e->path));
    } else {
      for (size_t i = 0; i < e->value.size(); ++i) ParseRoute(e->value[i], i, *e, spec, refs, diag);
    }
  }
  if (const Entry* e = r.Take("tls")) ParseGatewayTls(*e, spec, diag);
  r.NotSupportedYet("jwt");
  r.Finish();
}

void ParseMesh(const Entry& block, AppSpec& spec, Diagnostics& diag) {
  MapReader r(block.value, block.value_at, block.path, diag);
  if (!r.is_map()) return;
  if (const Entry* e = r.Take("listen")) ParseListen(*e, spec.mesh.listen, diag);
  for (const char* key : {"mtls", "allow"}) r.NotSupportedYet(key);
  r.Finish();
}

}  // namespace

AppFileResult ParseAppFile(std::string_view text, const std::filesystem::path& file,
                           const std::filesystem::path& directory) {
  Diagnostics diag(file.string());
  AppSpec spec;
  spec.file = file;
  spec.directory = directory;
  spec.name =
      std::filesystem::weakly_canonical(std::filesystem::absolute(directory)).filename().string();
  if (spec.name.empty()) spec.name = "app";
  References refs;
  bool read = false;  // the YAML was read into the spec, with or without errors of its own
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (root.IsNull()) {
      diag.Add({1, 1}, "the app file is empty: it needs at least a services: block");
    } else {
      MapReader top(root, {1, 1}, "", diag);
      if (top.is_map()) {
        if (const Entry* e = top.Take("name")) {
          if (auto name = ReadString(*e, diag)) spec.name = *name;
        }
        if (const Entry* e = top.Take("services")) {
          ParseServices(*e, spec, refs, diag);
        } else {
          diag.Add({1, 1}, "missing services: block");
        }
        if (const Entry* e = top.Take("gateway")) ParseGateway(*e, spec, refs, diag);
        if (const Entry* e = top.Take("mesh")) ParseMesh(*e, spec, diag);
        top.Finish();
        read = true;
      }
    }
  } catch (const YAML::Exception& e) {
    diag.Add(LocationOf(e.mark), fmt::format("invalid YAML: {}", e.msg));
  }
  // With the shape errors, not after they are fixed: every error of the file in one go.
  if (read) CheckReferences(spec, refs, diag);
  AppFileResult result;
  result.errors = diag.Take();
  if (result.errors.empty()) result.spec = std::move(spec);
  return result;
}

AppFileResult LoadAppFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    AppFileResult result;
    result.errors.push_back({path.string(), 0, 0, "cannot read the app file"});
    return result;
  }
  std::stringstream text;
  text << in.rdbuf();
  std::filesystem::path directory = path.parent_path();
  if (directory.empty()) directory = ".";
  return ParseAppFile(text.str(), path, directory);
}

}  // namespace gantry::config
