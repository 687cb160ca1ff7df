#include "broker/message.h"

#include <bit>
#include <cstring>

namespace gantry::broker {

namespace {

// Little-endian fixed-width fields and length-prefixed strings, written into space reserved
// up front (one allocation per record; this runs for every publish).
static_assert(std::endian::native == std::endian::little, "fields are stored as in memory");
void PutU64(std::string& out, uint64_t value) {
  char bytes[8];
  std::memcpy(bytes, &value, 8);
  out.append(bytes, 8);
}
void PutU32(std::string& out, uint32_t value) {
  char bytes[4];
  std::memcpy(bytes, &value, 4);
  out.append(bytes, 4);
}
void PutString(std::string& out, std::string_view text) {
  PutU32(out, static_cast<uint32_t>(text.size()));
  out.append(text);
}

struct Reader {
  std::string_view data;
  bool ok = true;
  uint64_t Fixed(size_t bytes) {
    if (data.size() < bytes) {
      ok = false;
      return 0;
    }
    uint64_t value = 0;
    for (size_t i = 0; i < bytes; ++i) {
      value |= static_cast<uint64_t>(static_cast<unsigned char>(data[i])) << (8 * i);
    }
    data.remove_prefix(bytes);
    return value;
  }
  std::string String() {
    uint64_t size = Fixed(4);
    if (!ok || data.size() < size) {
      ok = false;
      return {};
    }
    std::string text(data.substr(0, size));
    data.remove_prefix(size);
    return text;
  }
};

// Version 2 added a flags byte (bit 0: the id came from the publisher); version 1 records
// read as publisher ids.
constexpr uint8_t kVersion = 2;
constexpr uint8_t kIdFromPublisher = 1;

}  // namespace

std::string EncodeMessage(const Message& message) {
  size_t size =
      2 + 8 + 8 + 4 + message.id.size() + 4 + message.key.size() + 4 + 4 + message.payload.size();
  for (const auto& [name, value] : message.headers) size += 8 + name.size() + value.size();
  std::string out;
  out.reserve(size);
  out.push_back(static_cast<char>(kVersion));
  out.push_back(static_cast<char>(message.id_from_publisher ? kIdFromPublisher : 0));
  PutU64(out, message.offset);
  PutU64(out, static_cast<uint64_t>(message.time_ms));
  PutString(out, message.id);
  PutString(out, message.key);
  PutU32(out, static_cast<uint32_t>(message.headers.size()));
  for (const auto& [name, value] : message.headers) {
    PutString(out, name);
    PutString(out, value);
  }
  PutString(out, message.payload);
  return out;
}

absl::StatusOr<Message> DecodeMessage(std::string_view record) {
  Reader in{record};
  uint64_t version = in.Fixed(1);
  if (version != 1 && version != kVersion) {
    return absl::DataLossError("a message of an unknown version");
  }
  Message message;
  if (version >= 2) message.id_from_publisher = (in.Fixed(1) & kIdFromPublisher) != 0;
  message.offset = in.Fixed(8);
  message.time_ms = static_cast<int64_t>(in.Fixed(8));
  message.id = in.String();
  message.key = in.String();
  uint64_t headers = in.Fixed(4);
  for (uint64_t i = 0; in.ok && i < headers; ++i) {
    std::string name = in.String();
    std::string value = in.String();
    message.headers.emplace_back(std::move(name), std::move(value));
  }
  message.payload = in.String();
  if (!in.ok || !in.data.empty()) return absl::DataLossError("a malformed message record");
  return message;
}

}  // namespace gantry::broker
