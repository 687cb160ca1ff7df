// The HTTP/1.1 response head parser, as the proxy reads a replica's answers, for each request
// method that changes whether a body follows.
#include "fuzz.h"
#include "http/h1_head.h"

namespace h1 = gantry::http::h1;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = AsText(data, size);
  for (h1::Method method : {h1::Method::kGet, h1::Method::kHead, h1::Method::kConnect}) {
    h1::ResponseHead head;
    size_t scanned = 0;
    h1::ParseResult result = h1::ParseResponseHead(text, {}, method, head, scanned);
    if (result.status == h1::ParseStatus::kComplete) {
      FUZZ_CHECK(head.head_size <= size);
      FUZZ_CHECK(head.status >= 100 && head.status <= 999);
    }
  }
  return 0;
}
