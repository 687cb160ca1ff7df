#include "core/crc32.h"

#include <random>
#include <string>

#include <gtest/gtest.h>
#include <boost/crc.hpp>

namespace gantry {
namespace {

uint32_t Reference(std::string_view data) {
  boost::crc_32_type crc;
  crc.process_bytes(data.data(), data.size());
  return crc.checksum();
}

TEST(Crc32Test, MatchesTheStandardCheckValue) {
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);  // the catalogued check value of CRC-32/ISO-HDLC
  EXPECT_EQ(Crc32(""), 0u);
}

TEST(Crc32Test, AgreesWithABytewiseImplementationAtEveryLengthAndAlignment) {
  std::mt19937 random(7);
  std::string data(300, '\0');
  for (char& c : data) c = static_cast<char>(random());
  for (size_t start = 0; start < 8; ++start) {
    for (size_t length = 0; length + start <= data.size(); length += 1 + length / 8) {
      std::string_view piece(data.data() + start, length);
      ASSERT_EQ(Crc32(piece), Reference(piece)) << "start " << start << " length " << length;
    }
  }
}

}  // namespace
}  // namespace gantry
