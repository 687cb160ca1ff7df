// A Consumer whose committed offset is a store key, gantry/broker/offsets/<topic>/<group>
// (the embedded broker's consumer groups). The first fetch waits until the key is read; a
// group with no key starts at the oldest retained message. Acknowledgements come out of order;
// the committed offset (OffsetTracker) is written one write at a time, the newest following, so
// a restart goes on from at most a few messages back. Offsets that retention dropped before
// they were fetched count as acknowledged (and are logged).
// Control-plane thread only.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "broker/broker.h"
#include "broker/offset_tracker.h"

namespace boost::asio {
class io_context;
}

namespace gantry::broker {

class OffsetConsumer final : public Consumer {
 public:
  OffsetConsumer(boost::asio::io_context& io, Broker& broker, store::Store& store,
                 std::string topic, std::string group);
  ~OffsetConsumer() override;

  void Fetch(size_t max, store::Done<std::vector<Message>> done) override;
  void Ack(const Message& message) override;
  uint64_t committed() const override { return acked_.committed(); }

  static std::string OffsetKey(const std::string& topic, const std::string& group);

 private:
  void Load();
  // Answers the waiting fetch if there is something to read.
  void TryRead();
  void Save();

  boost::asio::io_context& io_;
  Broker& broker_;
  store::Store& store_;
  std::string topic_, group_;
  bool loaded_ = false;
  OffsetTracker acked_;  // and the next offset to fetch
  struct Waiting {
    size_t max = 0;
    store::Done<std::vector<Message>> done;
  };
  std::optional<Waiting> waiting_;
  bool reading_ = false;
  bool saving_ = false;
  uint64_t saved_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gantry::broker
