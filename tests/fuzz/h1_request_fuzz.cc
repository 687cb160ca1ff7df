// The proxy's HTTP/1.1 request head parser (http/h1_head.h), whole and fed a piece at a time:
// both ways must agree, and what it reports must lie inside the input.
#include "fuzz.h"
#include "http/h1_head.h"

namespace h1 = gantry::http::h1;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = AsText(data, size);
  h1::Limits limits;
  h1::RequestHead whole;
  size_t scanned = 0;
  h1::ParseResult all = h1::ParseRequestHead(text, limits, whole, scanned);
  if (all.status == h1::ParseStatus::kComplete) {
    FUZZ_CHECK(whole.head_size <= size);
    FUZZ_CHECK(whole.header_count <= limits.max_headers);
    for (size_t i = 0; i < whole.header_count; ++i) {
      FUZZ_CHECK(whole.headers[i].name.data() >= text.data());
      FUZZ_CHECK(whole.headers[i].value.data() + whole.headers[i].value.size() <=
                 text.data() + size);
    }
  }
  // Byte by byte, as a slow client sends it (the `scanned` resumption).
  h1::RequestHead piecewise;
  size_t resumed = 0;
  h1::ParseResult step;
  for (size_t n = 1; n <= size; ++n) {
    piecewise.ResetFacts();
    step = h1::ParseRequestHead(text.substr(0, n), limits, piecewise, resumed);
    if (step.status != h1::ParseStatus::kIncomplete) break;
  }
  if (size > 0 && step.status == h1::ParseStatus::kComplete &&
      all.status == h1::ParseStatus::kComplete) {
    FUZZ_CHECK(piecewise.head_size == whole.head_size);
    FUZZ_CHECK(piecewise.method == whole.method);
    FUZZ_CHECK(piecewise.content_length == whole.content_length);
  }
  return 0;
}
