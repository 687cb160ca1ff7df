// The chunked decoder (http/h1_chunked.h), over the input whole and split where its first byte
// says: the data it yields, and where it ends, must not depend on how the bytes arrive.
#include <string>

#include "fuzz.h"
#include "http/h1_chunked.h"

namespace h1 = gantry::http::h1;

namespace {
struct Outcome {
  std::string data;
  h1::ChunkedDecoder::Status last = h1::ChunkedDecoder::Status::kNeedMore;
  size_t consumed = 0;
};

Outcome Decode(std::string_view in, size_t piece) {
  Outcome out;
  h1::ChunkedDecoder decoder;
  size_t offset = 0;
  while (offset < in.size()) {
    std::string_view part = in.substr(offset, piece);
    size_t consumed = 0;
    for (;;) {
      std::string_view data;
      auto status = decoder.Decode(part, consumed, data);
      FUZZ_CHECK(consumed <= part.size());
      if (status == h1::ChunkedDecoder::Status::kData) {
        out.data.append(data);
        continue;
      }
      out.last = status;
      break;
    }
    out.consumed += consumed;
    if (out.last != h1::ChunkedDecoder::Status::kNeedMore) return out;
    offset += part.size();
  }
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t piece = static_cast<size_t>(data[0] % 16) + 1;
  std::string_view in = AsText(data + 1, size - 1);
  Outcome whole = Decode(in, in.size() + 1);
  Outcome pieces = Decode(in, piece);
  FUZZ_CHECK(whole.last == pieces.last);
  if (whole.last == h1::ChunkedDecoder::Status::kDone) {
    FUZZ_CHECK(whole.data == pieces.data);
    FUZZ_CHECK(whole.consumed == pieces.consumed);
  }
  return 0;
}
