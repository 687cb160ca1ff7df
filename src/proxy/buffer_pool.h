// Fixed-size I/O buffers recycled per worker, so that a connection holds one only while it has
// bytes to keep: an idle keep-alive connection costs no buffer. Worker thread only.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace gantry::proxy {

struct IoBuffer {
  static constexpr size_t kCapacity = size_t{32} * 1024;  // a 16 KiB head limit and room to spare
  char data[kCapacity];
  size_t begin = 0;  // unread bytes are [begin, end)
  size_t end = 0;

  size_t size() const { return end - begin; }
  const char* read_ptr() const { return data + begin; }
  char* write_ptr() { return data + end; }
  size_t space() const { return kCapacity - end; }
  void Consume(size_t n) {
    begin += n;
    if (begin == end) begin = end = 0;
  }
  // Moves unread bytes to the front to make room at the back.
  void Compact();
};

class BufferPool {
 public:
  std::unique_ptr<IoBuffer> Acquire();
  void Release(std::unique_ptr<IoBuffer> buffer);

 private:
  static constexpr size_t kMaxFree = 256;
  std::vector<std::unique_ptr<IoBuffer>> free_;
};

}  // namespace gantry::proxy
