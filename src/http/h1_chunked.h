// Incremental decoder of the chunked transfer coding (RFC 9112 7.1), strict about what
// request smuggling feeds on: chunk sizes are hex digits only (no sign, no "0x", no overflow),
// every line ends in CRLF, chunk data is followed by CRLF, and the size line, extensions and
// trailers are bounded. Extensions are checked and skipped; trailers are checked and dropped.
// Thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gantry::http::h1 {

class ChunkedDecoder {
 public:
  enum class Status : uint8_t {
    kNeedMore,  // every byte given was consumed; the body goes on
    kData,      // `data` holds chunk data (a view into the input); call again with the rest
    kDone,      // the last chunk and the trailer section ended; bytes after it are not consumed
    kError,     // malformed: error() says why
  };

  // Consumes from `in` (adding to `consumed`) up to the next piece of chunk data, the end of
  // the body, or the end of `in`.
  Status Decode(std::string_view in, size_t& consumed, std::string_view& data);

  bool done() const { return state_ == State::kDone; }
  const char* error() const { return error_; }
  void Reset() { *this = ChunkedDecoder(); }

  static constexpr size_t kMaxLineBytes = 4096;      // a size line with its extensions
  static constexpr size_t kMaxTrailerBytes = 16384;  // the whole trailer section

 private:
  enum class State : uint8_t {
    kSize,         // hex digits
    kExtension,    // after the size: extensions up to CR
    kSizeLf,       // LF after the size line's CR
    kData,         // `remaining_` bytes of data
    kDataCr,       // CR after data
    kDataLf,       // LF after data
    kTrailerLine,  // a trailer field line (or the empty line that ends the body)
    kTrailerLf,    // LF ending a trailer line
    kDone,
    kError,
  };
  Status Fail(const char* why);

  State state_ = State::kSize;
  uint64_t remaining_ = 0;
  size_t digits_ = 0;
  size_t line_bytes_ = 0;
  size_t trailer_bytes_ = 0;
  bool trailer_line_empty_ = true;
  const char* error_ = "";
};

}  // namespace gantry::http::h1
