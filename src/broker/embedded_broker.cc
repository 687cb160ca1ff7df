#include "broker/embedded_broker.h"

#include "broker/offset_consumer.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "core/status.h"
#include "core/strings.h"
#include "net/asio.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/thread_pool.hpp>

namespace gantry::broker {

namespace {

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct EmbeddedBroker::Runtime {
  net::asio::thread_pool sync_thread{1};
};

struct EmbeddedBroker::Topic {
  std::string name;
  std::unique_ptr<TopicLog> log;
  uint64_t next_offset = 0;  // the next one to assign (queued ones included)
  // Waiting for the next append, and on the sync thread now.
  std::vector<Message> queued;
  std::vector<store::Done<Published>> queued_done;
  std::vector<Message> in_flight;
  std::vector<store::Done<Published>> in_flight_done;
  // Dedup: durable ids of the window, oldest first, and ids still on their way.
  std::unordered_map<std::string, uint64_t> ids;
  std::deque<std::pair<int64_t, std::string>> id_times;
  std::unordered_map<std::string, std::vector<store::Done<Published>>> pending_ids;
};

EmbeddedBroker::EmbeddedBroker(net::asio::io_context& io, std::filesystem::path dir,
                               BrokerOptions options)
    : io_(io),
      dir_(std::move(dir)),
      options_(options),
      runtime_(std::make_unique<Runtime>()),
      alive_(std::make_shared<bool>(true)) {}

EmbeddedBroker::~EmbeddedBroker() {
  *alive_ = false;
  runtime_->sync_thread.join();  // an append under way finishes; its answers are dropped
}

absl::StatusOr<std::unique_ptr<EmbeddedBroker>> EmbeddedBroker::Open(
    net::asio::io_context& io, const std::filesystem::path& dir, const BrokerOptions& options) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::InternalError(fmt::format("cannot create {}: {}", dir.string(), error.message()));
  }
  std::unique_ptr<EmbeddedBroker> broker(new EmbeddedBroker(io, dir, options));
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_directory()) continue;
    std::string name = entry.path().filename().string();
    if (!CheckTopicName(name).ok()) continue;
    GANTRY_ASSIGN_OR_RETURN(Topic * topic, broker->GetOrCreate(name));
    (void)topic;
  }
  return broker;
}

absl::StatusOr<EmbeddedBroker::Topic*> EmbeddedBroker::GetOrCreate(const std::string& name) {
  if (auto it = topics_.find(name); it != topics_.end()) return it->second.get();
  auto topic = std::make_unique<Topic>();
  topic->name = name;
  int64_t now = WallMs();
  Topic& fresh = *topic;
  auto remember = [this, &fresh, now](const Message& message) {  // the dedup window survives
    if (message.id_from_publisher && message.time_ms >= now - options_.dedup_window.count()) {
      fresh.ids[message.id] = message.offset;
      fresh.id_times.emplace_back(message.time_ms, message.id);
    }
  };
  GANTRY_ASSIGN_OR_RETURN(topic->log, TopicLog::Open(dir_ / name, options_.retention, remember));
  topic->next_offset = topic->log->next_offset();
  Topic* raw = topic.get();
  topics_[name] = std::move(topic);
  return raw;
}

void EmbeddedBroker::ForgetOldIds(Topic& topic, int64_t now_ms) {
  while (!topic.id_times.empty() &&
         topic.id_times.front().first < now_ms - options_.dedup_window.count()) {
    auto it = topic.ids.find(topic.id_times.front().second);
    if (it != topic.ids.end()) topic.ids.erase(it);
    topic.id_times.pop_front();
  }
}

void EmbeddedBroker::Publish(const std::string& name, Outgoing outgoing,
                             store::Done<Published> done) {
  if (absl::Status status = CheckPublish(name, outgoing, options_.max_message_bytes);
      !status.ok()) {
    return done(status);
  }
  auto topic_or = GetOrCreate(name);
  if (!topic_or.ok()) return done(topic_or.status());
  Topic& topic = **topic_or;
  int64_t now = WallMs();
  ForgetOldIds(topic, now);
  if (!outgoing.id.empty()) {
    if (auto it = topic.ids.find(outgoing.id); it != topic.ids.end()) {
      return done(Published{it->second, outgoing.id, true});
    }
    if (auto it = topic.pending_ids.find(outgoing.id); it != topic.pending_ids.end()) {
      it->second.push_back(std::move(done));  // answered with the first one's offset
      return;
    }
    topic.pending_ids[outgoing.id];
  }
  Message message;
  message.id_from_publisher = !outgoing.id.empty();
  if (!message.id_from_publisher) {  // "<topic>-<ms>-<n>", by appends: once per publish
    outgoing.id.reserve(name.size() + 32);
    outgoing.id += name;
    outgoing.id += '-';
    AppendNumber(outgoing.id, static_cast<uint64_t>(now));
    outgoing.id += '-';
    AppendNumber(outgoing.id, ++made_up_ids_);
  }
  message.offset = topic.next_offset++;
  message.time_ms = now;
  message.id = std::move(outgoing.id);
  message.key = std::move(outgoing.key);
  message.headers = std::move(outgoing.headers);
  message.payload = std::move(outgoing.payload);
  topic.queued.push_back(std::move(message));
  topic.queued_done.push_back(std::move(done));
  if (!appending_) StartAppend();
}

// Every topic's queued messages go to the sync thread as one batch.
void EmbeddedBroker::StartAppend() {
  struct Work {
    TopicLog* log;
    std::vector<std::string> records;
    absl::StatusOr<TopicLog::Appended> result = TopicLog::Appended{};
  };
  auto batch = std::make_shared<std::vector<std::pair<Topic*, Work>>>();
  for (auto& [name, topic] : topics_) {
    if (topic->queued.empty()) continue;
    Work work{topic->log.get(), {}};
    for (const Message& message : topic->queued) work.records.push_back(EncodeMessage(message));
    topic->in_flight = std::move(topic->queued);
    topic->in_flight_done = std::move(topic->queued_done);
    topic->queued.clear();
    topic->queued_done.clear();
    batch->emplace_back(topic.get(), std::move(work));
  }
  if (batch->empty()) return;
  appending_ = true;
  int64_t now = WallMs();
  std::weak_ptr<bool> alive = alive_;
  net::asio::post(runtime_->sync_thread,
                  [this, batch, now, alive, work = net::asio::make_work_guard(io_)]() mutable {
                    for (auto& [topic, job] : *batch)
                      job.result = job.log->Append(job.records, now);
                    net::asio::post(io_, [this, batch, alive]() {
                      if (auto live = alive.lock(); !live || !*live) return;
                      for (auto& [topic, job] : *batch) {
                        auto done = std::move(topic->in_flight_done);
                        auto messages = std::move(topic->in_flight);
                        topic->in_flight_done.clear();
                        topic->in_flight.clear();
                        if (!job.result.ok()) {
                          // Nothing of the batch is readable: its offsets are given out again.
                          topic->next_offset = topic->log->next_offset() + topic->queued.size();
                          for (size_t i = 0; i < topic->queued.size(); ++i) {
                            topic->queued[i].offset = topic->log->next_offset() + i;
                          }
                          for (size_t i = 0; i < messages.size(); ++i) {
                            auto waiting = messages[i].id_from_publisher
                                               ? topic->pending_ids.extract(messages[i].id)
                                               : decltype(topic->pending_ids)::node_type();
                            done[i](job.result.status());
                            if (!waiting.empty()) {
                              for (auto& more : waiting.mapped()) more(job.result.status());
                            }
                          }
                          continue;
                        }
                        std::vector<Published> answers;
                        for (const Message& message : messages) {
                          answers.push_back({message.offset, message.id, false});
                          if (!message.id_from_publisher) continue;
                          topic->ids[message.id] = message.offset;
                          topic->id_times.emplace_back(message.time_ms, message.id);
                        }
                        topic->log->Commit(std::move(messages), *job.result);
                        NotifyPublished(topic->name);
                        for (size_t i = 0; i < answers.size(); ++i) {
                          done[i](answers[i]);
                          if (topic->pending_ids.empty()) continue;
                          auto waiting = topic->pending_ids.extract(answers[i].id);
                          if (!waiting.empty()) {
                            Published repeat = answers[i];
                            repeat.duplicate = true;
                            for (auto& more : waiting.mapped()) more(repeat);
                          }
                        }
                      }
                      appending_ = false;
                      StartAppend();  // what queued meanwhile
                    });
                  });
}

uint64_t EmbeddedBroker::NextOffset(const std::string& topic) const {
  auto it = topics_.find(topic);
  return it == topics_.end() ? 0 : it->second->log->next_offset();
}

uint64_t EmbeddedBroker::FirstOffset(const std::string& topic) const {
  auto it = topics_.find(topic);
  return it == topics_.end() ? 0 : it->second->log->first_offset();
}

std::vector<EmbeddedBroker::TopicInfo> EmbeddedBroker::Topics() const {
  std::vector<TopicInfo> out;
  for (const auto& [name, topic] : topics_) {
    const TopicLog& log = *topic->log;
    out.push_back({name, log.first_offset(), log.next_offset(),
                   log.next_offset() - log.first_offset(), log.bytes()});
  }
  return out;
}

void EmbeddedBroker::Read(const std::string& name, uint64_t from, size_t limit,
                          store::Done<std::vector<Message>> done) {
  absl::StatusOr<std::vector<Message>> read =
      absl::NotFoundError(fmt::format("no topic named \"{}\"", name));
  if (auto it = topics_.find(name); it != topics_.end()) read = it->second->log->Read(from, limit);
  // Answered from the loop, as on every backend: never before Read returns.
  net::asio::post(io_, [alive = std::weak_ptr<bool>(alive_), read = std::move(read),
                        done = std::move(done)]() mutable {
    if (!alive.expired()) done(std::move(read));
  });
}

std::unique_ptr<Consumer> EmbeddedBroker::Consume(const std::string& topic,
                                                  const std::string& group, store::Store& store) {
  return std::make_unique<OffsetConsumer>(io_, *this, store, topic, group);
}

}  // namespace gantry::broker
