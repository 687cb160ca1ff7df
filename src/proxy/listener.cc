#include "proxy/listener.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/log.h"
#include "net/socket.h"

namespace gantry::proxy {

Listener::Listener(Worker& worker, int fd, ListenerKind kind)
    : worker_(worker), fd_(fd), kind_(kind), retry_timer_(this) {}

Listener::~Listener() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status Listener::Register() { return worker_.loop().AddListener(fd_, this); }

void Listener::OnIo(uint32_t) {
  for (;;) {
    if (worker_.AtConnectionLimit(kind_)) return Pause();  // a leaving client resumes
    std::string peer_ip;
    int fd = net::AcceptSocket(fd_, peer_ip);
    if (fd >= 0) {
      worker_.Accepted(fd, kind_, std::move(peer_ip));
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    if (errno == EINTR || errno == ECONNABORTED) continue;
    GANTRY_LOG(kWarn, "accept failed: {}; retrying in 100ms", strerror(errno));
    Pause();
    worker_.loop().timers().Arm(retry_timer_, worker_.loop().now_ms() + 100);
    return;
  }
}

void Listener::Pause() {
  if (paused_ || fd_ < 0) return;
  paused_ = true;
  worker_.loop().Remove(fd_);
}

void Listener::ResumeIfPaused() {
  if (!paused_ || fd_ < 0 || retry_timer_.armed()) return;
  paused_ = false;
  if (!Register().ok()) return;
  OnIo(EPOLLIN);  // connections may have queued meanwhile (level-triggered from here on)
}

void Listener::OnTimer(net::Timer&) { ResumeIfPaused(); }

void Listener::Close() {
  if (fd_ < 0) return;
  worker_.loop().timers().Cancel(retry_timer_);
  worker_.loop().Close(fd_);  // a paused one is not registered: the removal is then a no-op
  fd_ = -1;
}

}  // namespace gantry::proxy
