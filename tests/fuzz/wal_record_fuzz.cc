// What the store and the broker read back from their logs at start: the CRC framing (a torn
// or damaged tail is cut, never read), the store's records and the broker's messages. The
// input is tried both as a log and as one record, since random bytes rarely pass a CRC; a
// record that decodes must encode and decode to itself.
#include <string>

#include "broker/message.h"
#include "fuzz.h"
#include "store/record.h"
#include "store/wal.h"

namespace store = gantry::store;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes = AsText(data, size);
  uint64_t intact = 0;
  (void)store::ReplayFramed(
      bytes,
      [](std::string_view record) {
        (void)store::DecodeRecord(record);
        (void)gantry::broker::DecodeMessage(record);
        return absl::OkStatus();
      },
      &intact);
  FUZZ_CHECK(intact <= size);
  auto record = store::DecodeRecord(bytes);
  if (record.ok()) {
    std::string encoded = store::EncodeRecord(*record);
    auto again = store::DecodeRecord(encoded);
    FUZZ_CHECK(again.ok() && store::EncodeRecord(*again) == encoded);
  }
  auto message = gantry::broker::DecodeMessage(bytes);
  if (message.ok()) {
    std::string encoded = gantry::broker::EncodeMessage(*message);
    auto again = gantry::broker::DecodeMessage(encoded);
    FUZZ_CHECK(again.ok() && gantry::broker::EncodeMessage(*again) == encoded);
  }
  // The same bytes framed as the log writes them replay as one intact record.
  std::string framed = store::FrameRecord(bytes);
  size_t replayed = 0;
  (void)store::ReplayFramed(
      framed,
      [&](std::string_view record) {
        FUZZ_CHECK(record == bytes);
        ++replayed;
        return absl::OkStatus();
      },
      &intact);
  FUZZ_CHECK(replayed == 1 || size == 0);
  return 0;
}
