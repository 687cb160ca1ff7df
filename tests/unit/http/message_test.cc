#include "http/message.h"

#include <gtest/gtest.h>

namespace gantry::http {
namespace {

TEST(JsonEscape, EscapesWhatJsonStringsMustAndKeepsTheRest) {
  EXPECT_EQ(JsonEscape("plain text: é ok"), "plain text: é ok");
  EXPECT_EQ(JsonEscape("a\"b\\c\nd\re\tf"), "a\\\"b\\\\c\\nd\\re\\tf");
  EXPECT_EQ(JsonEscape(std::string("\x01x\x1f", 3)), "\\u0001x\\u001f");
  std::string out = "[";
  AppendJsonEscaped(out, "q\"");
  EXPECT_EQ(out, "[q\\\"");
}

TEST(ReasonPhrase, NamesTheStatusesGantryAnswers) {
  EXPECT_EQ(ReasonPhrase(200), "OK");
  EXPECT_EQ(ReasonPhrase(408), "Request Timeout");
  EXPECT_EQ(ReasonPhrase(599), "Unknown");
}

}  // namespace
}  // namespace gantry::http
