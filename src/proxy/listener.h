// A worker's listening socket: accepts until the backlog is empty, hands each connection to
// the worker, and pauses (without spinning) when accepting fails for want of descriptors or
// memory (100 ms) or when the worker is at its connection limit (until a client leaves).
// Worker thread only, apart from construction.
#pragma once

#include "net/event_loop.h"
#include "net/timer_wheel.h"
#include "proxy/worker.h"

namespace gantry::proxy {

class Listener final : public net::IoHandler, public net::TimerHandler {
 public:
  Listener(Worker& worker, int fd, ListenerKind kind);
  ~Listener() override;

  absl::Status Register();
  void OnIo(uint32_t events) override;
  void OnTimer(net::Timer& timer) override;
  void ResumeIfPaused();
  void Close();
  ListenerKind kind() const { return kind_; }

 private:
  void Pause();

  Worker& worker_;
  int fd_;
  ListenerKind kind_;
  bool paused_ = false;
  net::Timer retry_timer_;
};

}  // namespace gantry::proxy
