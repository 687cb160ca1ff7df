#include "proxy/upstream_conn.h"

#include <unistd.h>

#include "proxy/worker.h"

namespace gantry::proxy {

UpstreamConn::UpstreamConn(Worker& worker, int fd, EndpointRuntime* runtime,
                           std::shared_ptr<ClusterRuntime> cluster)
    : worker_(worker), fd_(fd), runtime_(runtime), cluster_(std::move(cluster)) {}

UpstreamConn::~UpstreamConn() {
  if (fd_ < 0) return;
  ::close(fd_);
  cluster_->breaker.Release(CircuitBreaker::kConnections);
}

void UpstreamConn::OnIo(uint32_t events) {
  if (fd_ < 0) return;
  if (owner) return owner->OnUpstreamIo(events);  // `this` may be pooled again on return
  // Idle: the replica has nothing to say on a pooled connection. Bytes, FIN or an error all
  // mean it is closing (or broken): drop it before anyone picks it.
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    worker_.ForgetIdle(this);
    Close();
  }
}

void UpstreamConn::Close() {
  if (fd_ < 0) return;
  worker_.loop().Close(fd_);
  fd_ = -1;
  cluster_->breaker.Release(CircuitBreaker::kConnections);
  if (in) worker_.buffers().Release(std::move(in));
  worker_.loop().DeleteLater(std::unique_ptr<net::LoopOwned>(this));
}

}  // namespace gantry::proxy
