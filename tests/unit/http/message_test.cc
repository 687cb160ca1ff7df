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

// JSON text is UTF-8: bytes that are not (a service name with 0xFF, a cut sequence, an overlong
// form, a surrogate) become U+FFFD; well-formed sequences of every length stay as they are.
TEST(JsonEscape, ReplacesBytesThatAreNotUtf8) {
  EXPECT_EQ(JsonEscape("no service \"\xff\""), "no service \\\"\\ufffd\\\"");
  EXPECT_EQ(JsonEscape("\xc3"), "\\ufffd");                        // cut short
  EXPECT_EQ(JsonEscape("\xc0\xaf"), "\\ufffd\\ufffd");             // overlong '/'
  EXPECT_EQ(JsonEscape("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd");  // a surrogate
  EXPECT_EQ(JsonEscape("\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  EXPECT_EQ(JsonEscape("a\xff"
                       "b\xc3\xa9"),
            "a\\ufffd"
            "b\xc3\xa9");
}

TEST(ReasonPhrase, NamesTheStatusesGantryAnswers) {
  EXPECT_EQ(ReasonPhrase(200), "OK");
  EXPECT_EQ(ReasonPhrase(408), "Request Timeout");
  EXPECT_EQ(ReasonPhrase(599), "Unknown");
}

}  // namespace
}  // namespace gantry::http
