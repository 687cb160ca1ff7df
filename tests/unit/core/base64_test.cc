#include "core/base64.h"

#include <random>

#include <gtest/gtest.h>

namespace gantry {
namespace {

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    EXPECT_EQ(Base64Decode(encoded), plain);
  }
}

TEST(Base64, BinaryRoundTrips) {
  std::mt19937 rng(3);
  for (int size = 0; size < 64; ++size) {
    std::string data;
    for (int i = 0; i < size; ++i) data.push_back(static_cast<char>(rng()));
    EXPECT_EQ(Base64Decode(Base64Encode(data)), data);
  }
}

TEST(Base64, RejectsMalformed) {
  for (const char* bad : {"Zg=", "Z===", "Zm9v!A==", "Zg=a", "Zm=v", "=Zm9"}) {
    EXPECT_FALSE(Base64Decode(bad)) << bad;
  }
}

}  // namespace
}  // namespace gantry
