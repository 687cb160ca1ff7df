#include "broker/jetstream/jetstream_broker.h"

#include <chrono>
#include <random>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "broker/jetstream/jetstream_consumer.h"
#include "broker/jetstream/jetstream_impl.h"
#include "core/log.h"
#include "core/status.h"

namespace gantry::broker {

namespace {

constexpr Duration kTopicsRefresh = std::chrono::seconds(1);
constexpr int64_t kMaxPendingPublishes = 100'000;  // past it, a publish waits (StallWait)
constexpr size_t kMaxStreamName = 255;             // JetStream's limit

int64_t Nanos(Duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

// libnats' last error on this thread, without its "(file.c:123): " prefix.
std::string LastError(natsStatus status) {
  natsStatus ignored;
  const char* last = nats_GetLastError(&ignored);
  std::string text = last && *last ? last : natsStatus_GetText(status);
  if (text.starts_with("(")) {
    if (size_t end = text.find("): "); end != std::string::npos) text.erase(0, end + 3);
  }
  return text;
}

// Offsets are sequences minus one; an empty stream's first offset is its next.
Broker::TopicInfo TopicInfoOf(const std::string& topic, const jsStreamState& state) {
  return {topic, state.Msgs ? state.FirstSeq - 1 : state.LastSeq, state.LastSeq, state.Msgs,
          state.Bytes};
}

// Moves a topic's known end up to `next_offset` (a publish answered, or a look at the stream),
// never back.
void AdvanceTo(Broker::TopicInfo& info, uint64_t next_offset) {
  if (next_offset <= info.next_offset) return;
  info.messages += next_offset - info.next_offset;
  info.next_offset = next_offset;
}

void RefreshAgain(const std::shared_ptr<boost::asio::steady_timer>& timer,
                  const std::weak_ptr<std::function<void()>>& refresh) {
  timer->expires_after(kTopicsRefresh);
  timer->async_wait([timer, refresh](boost::system::error_code error) {
    auto next = refresh.lock();
    if (!error && next) (*next)();
  });
}

}  // namespace

absl::Status NatsError(const std::string& what, natsStatus status, jsErrCode code) {
  if (status == NATS_INSUFFICIENT_BUFFER || status == NATS_CONNECTION_DISCONNECTED ||
      status == NATS_CONNECTION_CLOSED || status == NATS_NO_SERVER) {
    return absl::UnavailableError(fmt::format("{}: NATS is not connected (reconnecting)", what));
  }
  std::string text = fmt::format("{}: {}", what, LastError(status));
  if (status == NATS_NOT_FOUND || code == JSStreamNotFoundErr || code == JSConsumerNotFoundErr ||
      code == JSNoMessageFoundErr) {
    return absl::NotFoundError(text);
  }
  if (code == JSStreamReplicasNotSupportedErr) {
    return absl::InvalidArgumentError(
        fmt::format("{}: {} (?replicas= above 1 needs a NATS cluster)", what, LastError(status)));
  }
  if (code == JSStreamStoreFailedErr || code == JSStorageResourcesExceededErr ||
      code == JSMemoryResourcesExceededErr) {
    return absl::ResourceExhaustedError(text);
  }
  return absl::UnavailableError(text);
}

Message MessageFromNats(natsMsg* msg, uint64_t sequence, int64_t time_ns) {
  Message out;
  out.offset = sequence - 1;
  out.time_ms = time_ns / 1'000'000;
  const char** keys = nullptr;
  int count = 0;
  if (natsMsgHeader_Keys(msg, &keys, &count) == NATS_OK) {
    for (int i = 0; i < count; ++i) {
      std::string_view name = keys[i];
      const char* value = nullptr;
      if (natsMsgHeader_Get(msg, keys[i], &value) != NATS_OK || value == nullptr) continue;
      if (name == "Nats-Msg-Id") {
        out.id = value;
      } else if (name == "Gantry-Id") {
        out.id = value;
        out.id_from_publisher = false;
      } else if (name == "Gantry-Key") {
        out.key = value;
      } else if (name.substr(0, 5) != "Nats-") {
        out.headers.emplace_back(name, value);
      }
    }
    free(static_cast<void*>(keys));
  }
  out.payload.assign(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
  return out;
}

JetStreamBroker::Impl::Impl(boost::asio::io_context& io_in, JetStreamOptions options_in)
    : io(io_in), options(std::move(options_in)) {
  names.app = jetstream::Escape(options.app);
  std::random_device random;
  id_prefix = fmt::format("{:08x}{:08x}", random(), random());
}

JetStreamBroker::Impl::PublishAcks* JetStreamBroker::Impl::NewPublishAcks() {
  static std::mutex mu;
  static auto* kept = new std::vector<PublishAcks*>();
  std::lock_guard lock(mu);
  kept->push_back(new PublishAcks{});
  return kept->back();
}

JetStreamBroker::Impl::~Impl() {
  {
    std::lock_guard lock(acks->mu);  // the ack handler waits, then finds no broker
    acks->impl = nullptr;
    // The messages themselves are libnats' until it hands them back to the handler (which
    // destroys them) or frees them with the connection: not destroyed here.
    acks->pending.clear();
  }
  worker.stop();  // what is queued is dropped: its answers would not be delivered anyway
  worker.join();
  if (nc) natsConnection_Close(nc);
  if (js) jsCtx_Destroy(js);
  if (nc) natsConnection_Destroy(nc);
}

absl::Status JetStreamBroker::Impl::Connected() const {
  if (natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED) return absl::OkStatus();
  return absl::UnavailableError("NATS is not connected (reconnecting)");
}

absl::Status JetStreamBroker::Impl::EnsureStream(const std::string& topic) {
  if (absl::Status connected = Connected(); !connected.ok()) return connected;
  std::string name = names.Stream(topic);
  jsErrCode code = jsErrCode(0);
  natsStatus s = MakeStream(name, names.Subject(topic), &code);
  if (s == NATS_OK || code == JSStreamNameExistErr) return absl::OkStatus();
  return NatsError(
      fmt::format("JetStream: cannot make the stream {} for topic \"{}\"", name, topic), s, code);
}

natsStatus JetStreamBroker::Impl::MakeStream(const std::string& name, const std::string& subject,
                                             jsErrCode* code) {
  const char* subjects[] = {subject.c_str()};
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = name.c_str();
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  config.Retention = js_LimitsPolicy;
  config.Discard = js_DiscardOld;
  config.Replicas = options.replicas;
  config.MaxBytes = static_cast<int64_t>(options.max_bytes);
  config.MaxAge = Nanos(options.max_age);
  config.MaxMsgSize = static_cast<int32_t>(options.max_message_bytes);
  config.Duplicates = Nanos(std::chrono::minutes(2));
  jsOptions call = CallOptions();
  jsStreamInfo* info = nullptr;
  natsStatus s = js_AddStream(&info, js, &config, &call, code);
  jsStreamInfo_Destroy(info);
  return s;
}

absl::StatusOr<Broker::TopicInfo> JetStreamBroker::Impl::StreamInfo(const std::string& topic) {
  jsOptions call = CallOptions();
  jsErrCode code = jsErrCode(0);
  jsStreamInfo* info = nullptr;
  natsStatus s = js_GetStreamInfo(&info, js, names.Stream(topic).c_str(), &call, &code);
  if (s != NATS_OK) {
    if (code == JSStreamNotFoundErr || s == NATS_NOT_FOUND) {
      return absl::NotFoundError(fmt::format("no topic named \"{}\"", topic));
    }
    return NatsError("JetStream: cannot read the stream of topic \"" + topic + "\"", s, code);
  }
  TopicInfo out = TopicInfoOf(topic, info->State);
  jsStreamInfo_Destroy(info);
  return out;
}

namespace {

// libnats' answer to one asynchronous publish, on its own thread.
void OnPublishAck(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error, void* closure) {
  auto* acks = static_cast<JetStreamBroker::Impl::PublishAcks*>(closure);
  std::lock_guard lock(acks->mu);  // held through the post: the broker stays while it is
  JetStreamBroker::Impl* impl = acks->impl;
  auto it = acks->pending.find(msg);
  if (impl == nullptr || it == acks->pending.end()) {
    natsMsg_Destroy(msg);
    return;
  }
  JetStreamBroker::Impl::Pending pending = std::move(it->second);
  acks->pending.erase(it);
  natsMsg_Destroy(msg);
  absl::StatusOr<Broker::Published> result;
  uint64_t sequence = 0;
  if (ack) {
    sequence = ack->Sequence;
    result = Broker::Published{ack->Sequence - 1, pending.id, ack->Duplicate};
  } else if (error && error->Err == NATS_TIMEOUT) {
    result = absl::UnavailableError(fmt::format(
        "JetStream did not answer the publish to \"{}\" in time: it may or may not be stored "
        "(publish again with the same X-Gantry-Message-Id to be sure)",
        pending.topic));
  } else {
    std::string why = error && error->ErrText ? error->ErrText : "";
    absl::Status status =
        NatsError(fmt::format("JetStream did not take the publish to \"{}\"", pending.topic),
                  error ? error->Err : NATS_ERR, error ? error->ErrCode : jsErrCode(0));
    result = why.empty()
                 ? status
                 : absl::Status(status.code(), fmt::format("JetStream did not take the publish to "
                                                           "\"{}\": {}",
                                                           pending.topic, why));
  }
  // Answers reach the loop in batches: one post (one wake-up of the loop) for whatever came
  // while the last batch waited.
  acks->answered.push_back({std::move(pending), std::move(result), sequence});
  if (acks->answered.size() > 1) return;
  impl->Post([impl] { impl->DeliverAnswers(); });
}

}  // namespace

void JetStreamBroker::Impl::DeliverAnswers() {
  std::vector<PublishAcks::Answer> batch;
  {
    std::lock_guard lock(acks->mu);
    batch.swap(acks->answered);
  }
  std::set<std::string> published;
  for (auto& [pending, result, sequence] : batch) {
    if (sequence) {
      TopicInfo& info = topics[pending.topic];
      info.name = pending.topic;
      AdvanceTo(info, sequence);
      published.insert(pending.topic);
    }
    pending.done(std::move(result));
  }
  if (notify_published) {
    for (const std::string& topic : published) notify_published(topic);
  }
}

absl::StatusOr<std::unique_ptr<JetStreamBroker>> JetStreamBroker::Open(boost::asio::io_context& io,
                                                                       JetStreamOptions options) {
  if (options.servers.empty()) return absl::InvalidArgumentError("nats: no server given");
  auto impl = std::make_shared<Impl>(io, std::move(options));
  std::string servers = fmt::format("{}", fmt::join(impl->options.servers, ","));
  std::vector<std::string> urls;
  for (const std::string& server : impl->options.servers) urls.push_back("nats://" + server);
  std::vector<const char*> url_pointers;
  for (const std::string& url : urls) url_pointers.push_back(url.c_str());

  // No spinning on libnats' locks: its threads share the cores with gantry's (and often the
  // server's), where a spin only delays the holder. Before the first connection, once.
  static const natsStatus opened = nats_Open(0);
  if (opened != NATS_OK) return absl::InternalError("nats: cannot start libnats");
  natsOptions* opts = nullptr;
  if (natsOptions_Create(&opts) != NATS_OK) return absl::InternalError("nats: out of memory");
  int64_t timeout_ms = impl->options.call_timeout.count();
  natsOptions_SetServers(opts, url_pointers.data(), static_cast<int>(url_pointers.size()));
  natsOptions_SetName(opts, "gantry");
  natsOptions_SetTimeout(opts, timeout_ms);
  natsOptions_SetAllowReconnect(opts, true);
  natsOptions_SetMaxReconnect(opts, -1);  // forever: NATS away degrades, never ends, gantry
  natsOptions_SetReconnectWait(opts, 200);
  // A dead server noticed within seconds, not the 2 minute default pings.
  natsOptions_SetPingInterval(opts, 2'000);
  natsOptions_SetMaxPingsOut(opts, 2);
  // While reconnecting, a publish fails at once (503) instead of waiting in libnats' buffer: a
  // buffered one went out on reconnect, stored, after its client was told it had failed.
  natsOptions_SetReconnectBufSize(opts, 1);
  natsOptions_SetFailRequestsOnDisconnect(opts, true);
  natsStatus s = natsConnection_Connect(&impl->nc, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) {
    return absl::UnavailableError(
        fmt::format("nats at {} did not answer: {}", servers, LastError(s)));
  }
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = timeout_ms;
  js_options.PublishAsync.AckHandler = OnPublishAck;
  impl->acks->impl = impl.get();
  js_options.PublishAsync.AckHandlerClosure = impl->acks;
  js_options.PublishAsync.MaxPending = kMaxPendingPublishes;
  if (natsConnection_JetStream(&impl->js, impl->nc, &js_options) != NATS_OK) {
    return absl::InternalError("nats: cannot make a JetStream context");
  }
  jsAccountInfo* account = nullptr;
  jsErrCode code = jsErrCode(0);
  jsOptions call = impl->CallOptions();
  s = js_GetAccountInfo(&account, impl->js, &call, &code);
  jsAccountInfo_Destroy(account);
  if (s != NATS_OK) {
    return absl::UnavailableError(
        fmt::format("JetStream does not answer on nats at {} (is the server started with -js?): {}",
                    servers, LastError(s)));
  }
  if (impl->options.replicas > 1) {
    // Whether the cluster can keep that many copies: a stream made and dropped at once, so that
    // a wrong ?replicas= is an error now, not a failing topic later.
    std::string probe = "gantry_" + impl->names.app + "_probe";
    s = impl->MakeStream(probe, "gantry." + impl->names.app + "._probe", &code);
    if (s != NATS_OK && code != JSStreamNameExistErr) {
      return absl::InvalidArgumentError(fmt::format(
          "nats at {} cannot keep {} replicas of a stream: {}{}", servers, impl->options.replicas,
          LastError(s), code == JSStreamReplicasNotSupportedErr ? " (the server runs alone)" : ""));
    }
    js_DeleteStream(impl->js, probe.c_str(), &call, nullptr);
  }
  return std::unique_ptr<JetStreamBroker>(new JetStreamBroker(std::move(impl)));
}

JetStreamBroker::JetStreamBroker(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {
  impl_->notify_published = [this](const std::string& topic) { NotifyPublished(topic); };
  // The topic list, refreshed every second from the streams (publishes by others show there).
  auto timer = std::make_shared<boost::asio::steady_timer>(impl_->io);
  auto refresh = std::make_shared<std::function<void()>>();
  Impl* impl_raw = impl_.get();
  *refresh = [impl_raw, timer, weak = std::weak_ptr<std::function<void()>>(refresh)] {
    boost::asio::post(impl_raw->worker, [impl_raw, timer, weak] {
      jsOptions call = impl_raw->CallOptions();
      jsStreamInfoList* list = nullptr;
      std::map<std::string, TopicInfo> seen;
      if (js_Streams(&list, impl_raw->js, &call, nullptr) == NATS_OK && list) {
        for (int i = 0; i < list->Count; ++i) {
          const jsStreamInfo* info = list->List[i];
          std::string topic = impl_raw->names.TopicOf(info->Config->Name);
          if (topic.empty()) continue;
          seen[topic] = TopicInfoOf(topic, info->State);
        }
        jsStreamInfoList_Destroy(list);
      } else {
        return impl_raw->Post([timer, weak] { RefreshAgain(timer, weak); });  // NATS away: keep
      }
      impl_raw->Post([impl_raw, timer, weak, seen = std::move(seen)]() mutable {
        for (auto& [topic, info] : seen) {
          impl_raw->streams_made.insert(topic);
          TopicInfo& known = impl_raw->topics[topic];
          AdvanceTo(info, known.next_offset);  // a publish answered since the look began
          known = info;
        }
        RefreshAgain(timer, weak);
      });
    });
  };
  refresh_ = refresh;
  (*refresh)();
}

JetStreamBroker::~JetStreamBroker() {
  *impl_->alive = false;
  refresh_.reset();
}

void JetStreamBroker::Publish(const std::string& topic, Outgoing outgoing,
                              store::Done<Published> done) {
  if (absl::Status status = CheckPublish(topic, outgoing, impl_->options.max_message_bytes);
      !status.ok()) {
    return done(status);
  }
  if (std::string stream = impl_->names.Stream(topic); stream.size() > kMaxStreamName) {
    return done(absl::InvalidArgumentError(
        fmt::format("topic \"{}\" is too long for JetStream: its stream name, {}, would be over {} "
                    "characters ('_' and '.' count twice)",
                    topic, stream.substr(0, 40) + "...", kMaxStreamName)));
  }
  if (impl_->streams_made.contains(topic)) return Send(topic, std::move(outgoing), std::move(done));
  auto& waiting = impl_->making[topic];
  waiting.push_back([this, topic, outgoing = std::move(outgoing),
                     done = std::move(done)](absl::Status made) mutable {
    if (!made.ok()) return done(made);
    Send(topic, std::move(outgoing), std::move(done));
  });
  if (waiting.size() > 1) return;  // the stream is on its way
  Impl* impl = impl_.get();
  boost::asio::post(impl->worker, [impl, topic] {
    absl::Status made = impl->EnsureStream(topic);
    impl->Post([impl, topic, made] {
      if (made.ok()) impl->streams_made.insert(topic);
      auto waiting = std::move(impl->making[topic]);
      impl->making.erase(topic);
      for (auto& then : waiting) then(made);
    });
  });
}

void JetStreamBroker::Send(const std::string& topic, Outgoing outgoing,
                           store::Done<Published> done) {
  Impl& impl = *impl_;
  std::string subject = impl.names.Subject(topic);
  natsMsg* msg = nullptr;
  if (natsMsg_Create(&msg, subject.c_str(), nullptr, outgoing.payload.data(),
                     static_cast<int>(outgoing.payload.size())) != NATS_OK) {
    return done(absl::InternalError("nats: cannot make a message"));
  }
  bool from_publisher = !outgoing.id.empty();
  std::string id =
      from_publisher ? outgoing.id : fmt::format("{}-{}", impl.id_prefix, ++impl.made_up_ids);
  natsMsgHeader_Set(msg, from_publisher ? "Nats-Msg-Id" : "Gantry-Id", id.c_str());
  if (!outgoing.key.empty()) natsMsgHeader_Set(msg, "Gantry-Key", outgoing.key.c_str());
  for (const auto& [name, value] : outgoing.headers) {
    natsMsgHeader_Add(msg, name.c_str(), value.c_str());
  }
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MaxWait = impl.options.call_timeout.count();  // then it answers, failed
  {
    std::lock_guard lock(impl.acks->mu);
    impl.acks->pending[msg] = {topic, id, std::move(done)};
  }
  natsMsg* sent = msg;
  natsStatus s = js_PublishMsgAsync(impl.js, &sent, &options);
  if (s == NATS_OK) return;
  Impl::Pending failed;
  {
    std::lock_guard lock(impl.acks->mu);
    auto it = impl.acks->pending.find(msg);
    if (it == impl.acks->pending.end()) return;  // answered meanwhile after all
    failed = std::move(it->second);
    impl.acks->pending.erase(it);
  }
  natsMsg_Destroy(sent);
  failed.done(NatsError(fmt::format("cannot publish to \"{}\"", topic), s));
}

std::vector<Broker::TopicInfo> JetStreamBroker::Topics() const {
  std::vector<TopicInfo> out;
  for (const auto& [name, info] : impl_->topics) out.push_back(info);
  return out;
}

uint64_t JetStreamBroker::NextOffset(const std::string& topic) const {
  auto it = impl_->topics.find(topic);
  return it == impl_->topics.end() ? 0 : it->second.next_offset;
}

uint64_t JetStreamBroker::FirstOffset(const std::string& topic) const {
  auto it = impl_->topics.find(topic);
  return it == impl_->topics.end() ? 0 : it->second.first_offset;
}

void JetStreamBroker::Read(const std::string& topic, uint64_t from, size_t limit,
                           store::Done<std::vector<Message>> done) {
  Impl* impl = impl_.get();
  boost::asio::post(impl->worker, [impl, topic, from, limit, done = std::move(done)]() mutable {
    absl::StatusOr<std::vector<Message>> result = std::vector<Message>();
    absl::Status connected = impl->Connected();
    absl::StatusOr<TopicInfo> info = connected.ok() ? impl->StreamInfo(topic) : connected;
    if (!info.ok()) {
      result = info.status();
    } else {
      std::string stream = impl->names.Stream(topic);
      jsOptions call = impl->CallOptions();
      for (uint64_t offset = std::max(from, info->first_offset);
           offset < info->next_offset && result->size() < limit; ++offset) {
        natsMsg* msg = nullptr;
        jsErrCode code = jsErrCode(0);
        natsStatus s = js_GetMsg(&msg, impl->js, stream.c_str(), offset + 1, &call, &code);
        if (s == NATS_OK) {
          result->push_back(MessageFromNats(msg, natsMsg_GetSequence(msg), natsMsg_GetTime(msg)));
          natsMsg_Destroy(msg);
          continue;
        }
        absl::Status error = NatsError("JetStream: cannot read " + topic, s, code);
        if (absl::IsNotFound(error)) continue;  // gone to retention meanwhile
        result = error;
        break;
      }
    }
    impl->Post([done = std::move(done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  });
}

std::unique_ptr<Consumer> JetStreamBroker::Consume(const std::string& topic,
                                                   const std::string& group, store::Store&) {
  return std::make_unique<JetStreamConsumer>(impl_, topic, group);
}

}  // namespace gantry::broker
