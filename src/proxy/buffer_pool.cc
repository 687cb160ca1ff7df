#include "proxy/buffer_pool.h"

#include <cstring>

namespace gantry::proxy {

void IoBuffer::Compact() {
  if (begin == 0) return;
  std::memmove(data, data + begin, end - begin);
  end -= begin;
  begin = 0;
}

std::unique_ptr<IoBuffer> BufferPool::Acquire() {
  if (free_.empty()) return std::unique_ptr<IoBuffer>(new IoBuffer);  // no zeroing: 32 KiB
  std::unique_ptr<IoBuffer> buffer = std::move(free_.back());
  free_.pop_back();
  buffer->begin = buffer->end = 0;
  return buffer;
}

void BufferPool::Release(std::unique_ptr<IoBuffer> buffer) {
  if (!buffer || free_.size() >= kMaxFree) return;
  free_.push_back(std::move(buffer));
}

}  // namespace gantry::proxy
