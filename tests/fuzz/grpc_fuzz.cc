// gRPC's wire pieces (http/grpc_wire.h): message framing (a framed message reads back as
// itself), the health response the probe reads, grpc-timeout and grpc-message.
#include <algorithm>
#include <string>

#include "fuzz.h"
#include "http/grpc_wire.h"

namespace grpc = gantry::http::grpc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = AsText(data, size);
  grpc::Framed frame;
  std::string_view rest = text;
  while (grpc::NextMessage(rest, frame) == grpc::FrameStatus::kComplete) {
    FUZZ_CHECK(frame.size >= 5 && frame.size <= rest.size());
    rest.remove_prefix(frame.size);
  }
  grpc::Framed again;
  std::string framed = grpc::FrameMessage(text);
  FUZZ_CHECK(grpc::NextMessage(framed, again, size) == grpc::FrameStatus::kComplete);
  FUZZ_CHECK(again.message == text && !again.compressed);
  int status = grpc::HealthStatus(text);
  FUZZ_CHECK(status >= -1);
  int64_t ms = grpc::ParseTimeoutMs(text);
  constexpr int64_t kLongest = int64_t{99'999'999} * 3'600'000;  // 99999999H
  if (ms >= 0)
    FUZZ_CHECK(grpc::ParseTimeoutMs(grpc::FormatTimeoutMs(ms)) >= std::min(ms, kLongest));
  std::string encoded = grpc::EncodeMessage(text);
  for (char c : encoded) FUZZ_CHECK(c >= 0x20 && c <= 0x7e);
  (void)grpc::IsGrpcContentType(text);
  return 0;
}
