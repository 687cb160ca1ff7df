// The store's snapshot decoder (the whole state, read at start): malformed bytes are an error,
// never a crash; a snapshot that decodes encodes and decodes to itself.
#include <string>

#include "fuzz.h"
#include "store/record.h"

namespace store = gantry::store;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto snapshot = store::DecodeSnapshot(AsText(data, size));
  if (snapshot.ok()) {
    std::string encoded = store::EncodeSnapshot(*snapshot);
    auto again = store::DecodeSnapshot(encoded);
    FUZZ_CHECK(again.ok() && store::EncodeSnapshot(*again) == encoded);
  }
  return 0;
}
