#include "http/server_stream.h"

namespace gantry::http {

ServerStream::ServerStream(const net::asio::any_io_executor& executor) : wake_(executor) {
  wake_.expires_at(net::asio::steady_timer::time_point::max());
}

bool ServerStream::Write(std::string_view data) {
  if (!open_ || ended_) return false;
  if (queued_.size() + data.size() > kMaxQueuedBytes) {
    Close();
    return false;
  }
  queued_.append(data);
  wake_.cancel();
  return true;
}

void ServerStream::End() {
  if (ended_ || !open_) return;
  ended_ = true;
  wake_.cancel();
}

void ServerStream::OnClose(std::function<void()> callback) {
  if (!open_) return callback();
  on_close_.push_back(std::move(callback));
}

void ServerStream::OnWritable(std::function<void()> callback) {
  if (!open_) return;
  on_writable_.push_back(std::move(callback));
  if (queued_.empty()) wake_.cancel();  // the writer reports back when it has sent what it took
}

void ServerStream::Drained() {
  if (!open_ || !queued_.empty()) return;
  auto callbacks = std::move(on_writable_);
  on_writable_.clear();
  for (auto& callback : callbacks) callback();
}

std::string ServerStream::TakeQueued() {
  std::string out;
  out.swap(queued_);
  return out;
}

void ServerStream::Close() {
  if (!open_) return;
  open_ = false;
  on_writable_.clear();
  wake_.cancel();
  auto callbacks = std::move(on_close_);
  on_close_.clear();
  for (auto& callback : callbacks) callback();
}

net::Awaitable<void> ServerStream::WaitForData() {
  if (!queued_.empty() || ended_ || !open_ || !on_writable_.empty()) co_return;
  wake_.expires_at(net::asio::steady_timer::time_point::max());
  co_await wake_.async_wait(net::kUseTuple);  // woken by a cancel
}

}  // namespace gantry::http
