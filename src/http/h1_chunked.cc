#include "http/h1_chunked.h"

namespace gantry::http::h1 {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Bytes allowed in extensions and trailer lines: VCHAR, obs-text, SP, HTAB.
bool IsLineByte(char c) {
  auto u = static_cast<unsigned char>(c);
  return u == '\t' || u == ' ' || (u > 0x20 && u != 0x7f);
}

}  // namespace

ChunkedDecoder::Status ChunkedDecoder::Fail(const char* why) {
  state_ = State::kError;
  error_ = why;
  return Status::kError;
}

ChunkedDecoder::Status ChunkedDecoder::Decode(std::string_view in, size_t& consumed,
                                              std::string_view& data) {
  while (consumed < in.size()) {
    char c = in[consumed];
    switch (state_) {
      case State::kSize: {
        int digit = HexValue(c);
        if (digit >= 0) {
          if (++digits_ > 15) return Fail("chunk size too large");
          remaining_ = remaining_ * 16 + static_cast<uint64_t>(digit);
          ++consumed;
          break;
        }
        if (digits_ == 0) return Fail("bad chunk size");
        if (c == ';' || c == ' ' || c == '\t') {
          state_ = State::kExtension;
        } else if (c == '\r') {
          state_ = State::kSizeLf;
        } else {
          return Fail("bad chunk size");
        }
        line_bytes_ = digits_ + 1;
        ++consumed;
        break;
      }
      case State::kExtension:
        if (++line_bytes_ > kMaxLineBytes) return Fail("chunk extension too long");
        if (c == '\r') {
          state_ = State::kSizeLf;
        } else if (!IsLineByte(c)) {
          return Fail("bad byte in chunk extension");
        }
        ++consumed;
        break;
      case State::kSizeLf:
        if (c != '\n') return Fail("chunk size line not ended by CRLF");
        ++consumed;
        if (remaining_ == 0) {
          state_ = State::kTrailerLine;
          trailer_line_empty_ = true;
        } else {
          state_ = State::kData;
        }
        break;
      case State::kData: {
        size_t take = in.size() - consumed;
        if (take > remaining_) take = static_cast<size_t>(remaining_);
        data = in.substr(consumed, take);
        consumed += take;
        remaining_ -= take;
        if (remaining_ == 0) state_ = State::kDataCr;
        return Status::kData;
      }
      case State::kDataCr:
        if (c != '\r') return Fail("chunk data not followed by CRLF");
        state_ = State::kDataLf;
        ++consumed;
        break;
      case State::kDataLf:
        if (c != '\n') return Fail("chunk data not followed by CRLF");
        state_ = State::kSize;
        digits_ = 0;
        ++consumed;
        break;
      case State::kTrailerLine:
        if (++trailer_bytes_ > kMaxTrailerBytes) return Fail("trailer section too large");
        if (c == '\r') {
          state_ = State::kTrailerLf;
        } else if (!IsLineByte(c)) {
          return Fail("bad byte in trailer");
        } else {
          trailer_line_empty_ = false;
        }
        ++consumed;
        break;
      case State::kTrailerLf:
        if (c != '\n') return Fail("trailer line not ended by CRLF");
        ++consumed;
        if (trailer_line_empty_) {
          state_ = State::kDone;
          return Status::kDone;
        }
        state_ = State::kTrailerLine;
        trailer_line_empty_ = true;
        break;
      case State::kDone:
        return Status::kDone;
      case State::kError:
        return Status::kError;
    }
  }
  if (state_ == State::kDone) return Status::kDone;
  if (state_ == State::kError) return Status::kError;
  return Status::kNeedMore;
}

}  // namespace gantry::http::h1
