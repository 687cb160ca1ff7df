#include "http/h1_head.h"

#include <string>

#include <gtest/gtest.h>

#include "http/h1_chunked.h"

namespace gantry::http::h1 {
namespace {

using namespace std::string_literals;

struct Parsed {
  ParseResult result;
  RequestHead head;
};

Parsed ParseRequest(std::string_view data, Limits limits = {}) {
  Parsed parsed;
  size_t scanned = 0;
  parsed.result = ParseRequestHead(data, limits, parsed.head, scanned);
  return parsed;
}

TEST(H1Request, ParsesASimpleGet) {
  std::string data = "GET /a?b=c HTTP/1.1\r\nHost: shop\r\nX-Thing:  padded  \r\n\r\nrest";
  Parsed p = ParseRequest(data);
  ASSERT_EQ(p.result.status, ParseStatus::kComplete) << p.result.error;
  EXPECT_EQ(p.head.method, Method::kGet);
  EXPECT_EQ(p.head.target, "/a?b=c");
  EXPECT_EQ(p.head.minor_version, 1);
  EXPECT_EQ(p.head.host, "shop");
  EXPECT_EQ(p.head.Find("x-thing"), "padded");
  EXPECT_EQ(p.head.head_size, data.size() - 4);
  EXPECT_EQ(p.head.framing, Framing::kNone);
  EXPECT_TRUE(p.head.KeepAlive());
}

TEST(H1Request, BodyFramingAndConnection) {
  Parsed p = ParseRequest(
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n"
      "Connection: close\r\n\r\n");
  ASSERT_EQ(p.result.status, ParseStatus::kComplete);
  EXPECT_EQ(p.head.framing, Framing::kLength);
  EXPECT_EQ(p.head.content_length, 12u);
  EXPECT_FALSE(p.head.KeepAlive());

  p = ParseRequest("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n");
  ASSERT_EQ(p.result.status, ParseStatus::kComplete);
  EXPECT_EQ(p.head.framing, Framing::kChunked);

  p = ParseRequest("GET / HTTP/1.0\r\n\r\n");
  ASSERT_EQ(p.result.status, ParseStatus::kComplete);
  EXPECT_FALSE(p.head.KeepAlive());
  p = ParseRequest("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_TRUE(p.head.KeepAlive());

  p = ParseRequest("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Hop\r\n\r\n");
  EXPECT_TRUE(p.head.has_connection_tokens);
  EXPECT_FALSE(p.head.connection_upgrade);
  // An upgrade request: Upgrade's first value, and Upgrade named in any Connection field.
  p = ParseRequest(
      "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n"
      "Connection: UPGRADE\r\nUpgrade: h2c\r\n\r\n");
  EXPECT_EQ(p.head.upgrade, "websocket");
  EXPECT_TRUE(p.head.connection_upgrade);
  EXPECT_TRUE(p.head.has_connection_tokens);
  p = ParseRequest(
      "PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(p.head.expect_continue);
  EXPECT_EQ(p.head.framing, Framing::kNone);
  // The fields the proxy reads for every request, first of each, any case.
  p = ParseRequest(
      "GET / HTTP/1.1\r\nHost: a\r\nTraceParent: 00-a-b-01\r\nX-Request-ID: r1\r\n"
      "traceparent: second\r\nx-request-id: r2\r\n\r\n");
  EXPECT_EQ(p.head.traceparent, "00-a-b-01");
  EXPECT_EQ(p.head.request_id, "r1");
  p = ParseRequest("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(p.head.traceparent, "");
  EXPECT_EQ(p.head.request_id, "");
}

TEST(H1Request, AReusedHeadForgetsTheLastRequest) {
  RequestHead head;
  size_t scanned = 0;
  ASSERT_EQ(ParseRequestHead("POST / HTTP/1.1\r\nHost: a\r\nConnection: close, X-A, upgrade\r\n"
                             "Upgrade: websocket\r\nContent-Length: 3\r\n\r\n",
                             {}, head, scanned)
                .status,
            ParseStatus::kComplete);
  scanned = 0;
  ASSERT_EQ(ParseRequestHead("GET / HTTP/1.1\r\nHost: a\r\n\r\n", {}, head, scanned).status,
            ParseStatus::kComplete);
  EXPECT_TRUE(head.KeepAlive());
  EXPECT_FALSE(head.has_connection_tokens);
  EXPECT_FALSE(head.connection_upgrade);
  EXPECT_EQ(head.upgrade, "");
  EXPECT_EQ(head.framing, Framing::kNone);
  EXPECT_EQ(head.content_length, 0u);

  ResponseHead response;
  scanned = 0;
  ASSERT_EQ(ParseResponseHead("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", {}, Method::kGet,
                              response, scanned)
                .status,
            ParseStatus::kComplete);
  scanned = 0;
  ASSERT_EQ(ParseResponseHead("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", {}, Method::kGet,
                              response, scanned)
                .status,
            ParseStatus::kComplete);
  EXPECT_TRUE(response.KeepAlive());
}

TEST(H1Request, WaitsForTheWholeHeadAndSkipsLeadingEmptyLines) {
  std::string data = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
  RequestHead head;
  size_t scanned = 0;
  for (size_t n = 0; n < data.size(); ++n) {  // byte by byte: incomplete until the last one
    ASSERT_EQ(ParseRequestHead(std::string_view(data).substr(0, n), {}, head, scanned).status,
              ParseStatus::kIncomplete)
        << n;
  }
  ASSERT_EQ(ParseRequestHead(data, {}, head, scanned).status, ParseStatus::kComplete);
  EXPECT_EQ(head.head_size, data.size());
  EXPECT_EQ(head.target, "/");
}

// The smuggling and limits suite: each of these must be refused with the given status.
struct Malformed {
  const char* what;
  std::string request;
  int status;
};

class H1Malformed : public testing::TestWithParam<Malformed> {};

TEST_P(H1Malformed, IsRefused) {
  const Malformed& m = GetParam();
  Parsed p = ParseRequest(m.request);
  ASSERT_EQ(p.result.status, ParseStatus::kError) << m.what;
  EXPECT_EQ(p.result.error_status, m.status) << m.what << ": " << p.result.error;
}

const std::string kLongTarget(9000, 'a');
const std::string kManyFields = [] {
  std::string fields;
  for (int i = 0; i < 101; ++i) fields += "X-F" + std::to_string(i) + ": v\r\n";
  return fields;
}();

INSTANTIATE_TEST_SUITE_P(
    Suite, H1Malformed,
    testing::Values(
        Malformed{"CL and TE",
                  "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n",
                  400},
        Malformed{"TE and CL",
                  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                  "Content-Length: 4\r\n\r\n",
                  400},
        Malformed{"duplicate CL",
                  "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
                  "Content-Length: 4\r\n\r\n",
                  400},
        Malformed{"CL list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4, 4\r\n\r\n", 400},
        Malformed{"negative CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400},
        Malformed{"signed CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +4\r\n\r\n", 400},
        Malformed{"hex CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", 400},
        Malformed{"huge CL",
                  "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: "
                  "99999999999999999999\r\n\r\n",
                  400},
        Malformed{"empty CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400},
        Malformed{"TE not chunked last",
                  "POST / HTTP/1.1\r\nHost: a\r\n"
                  "Transfer-Encoding: chunked, gzip\r\n\r\n",
                  400},
        Malformed{"TE unknown", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n",
                  400},
        Malformed{"TE twice",
                  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n",
                  400},
        Malformed{"TE with gzip",
                  "POST / HTTP/1.1\r\nHost: a\r\n"
                  "Transfer-Encoding: gzip, chunked\r\n\r\n",
                  501},
        Malformed{"TE in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        Malformed{"space before colon",
                  "GET / HTTP/1.1\r\nHost: a\r\n"
                  "Transfer-Encoding : chunked\r\n\r\n",
                  400},
        Malformed{"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", 400},
        Malformed{"bare LF", "GET / HTTP/1.1\nHost: a\n\n", 400},
        Malformed{"bare CR in value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n", 400},
        Malformed{"NUL in value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n"s, 400},
        Malformed{"bad header name", "GET / HTTP/1.1\r\nHost: a\r\nX(A): b\r\n\r\n", 400},
        Malformed{"empty header name", "GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", 400},
        Malformed{"no colon", "GET / HTTP/1.1\r\nHost: a\r\nJustText\r\n\r\n", 400},
        Malformed{"missing Host", "GET / HTTP/1.1\r\n\r\n", 400},
        Malformed{"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
        Malformed{"bad Host", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
        Malformed{"bad method", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        Malformed{"two spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        Malformed{"control in target", "GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        Malformed{"bad version", "GET / HTTX/1.1\r\nHost: a\r\n\r\n", 400},
        Malformed{"HTTP/2.0 over h1", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
        Malformed{"no version", "GET /\r\nHost: a\r\n\r\n", 400},
        Malformed{"unknown expectation", "GET / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n\r\n", 417},
        Malformed{"request line too long", "GET /" + kLongTarget + " HTTP/1.1\r\nHost: a\r\n\r\n",
                  414},
        Malformed{"request line too long, unfinished", "GET /" + kLongTarget, 414},
        Malformed{"head too large",
                  "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(17000, 'b') + "\r\n\r\n",
                  431},
        Malformed{"head too large, unfinished",
                  "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(17000, 'b'), 431},
        Malformed{"too many fields", "GET / HTTP/1.1\r\nHost: a\r\n" + kManyFields + "\r\n", 431}),
    [](const testing::TestParamInfo<Malformed>& info) {
      std::string name;
      for (char c : std::string(info.param.what)) {
        name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      }
      return name;
    });

ResponseHead ParseResponseOk(std::string_view data, Method method = Method::kGet) {
  ResponseHead head;
  size_t scanned = 0;
  ParseResult result = ParseResponseHead(data, {}, method, head, scanned);
  EXPECT_EQ(result.status, ParseStatus::kComplete) << result.error;
  return head;
}

TEST(H1Response, FramingFollowsStatusMethodAndFields) {
  ResponseHead head = ParseResponseOk("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.reason, "OK");
  EXPECT_EQ(head.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(head.framing, Framing::kLength);
  EXPECT_EQ(ParseResponseOk("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", Method::kHead).framing,
            Framing::kNone);
  EXPECT_EQ(ParseResponseOk("HTTP/1.1 204 No Content\r\n\r\n").framing, Framing::kNone);
  EXPECT_EQ(ParseResponseOk("HTTP/1.1 304 Not Modified\r\n\r\n").framing, Framing::kNone);
  EXPECT_EQ(ParseResponseOk("HTTP/1.1 100 Continue\r\n\r\n").framing, Framing::kNone);
  EXPECT_EQ(ParseResponseOk("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").framing,
            Framing::kChunked);
  EXPECT_EQ(ParseResponseOk("HTTP/1.0 200 OK\r\n\r\n").framing, Framing::kUntilClose);
  EXPECT_EQ(ParseResponseOk("HTTP/1.1 200\r\n\r\n").reason, "");
  EXPECT_FALSE(ParseResponseOk("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n").KeepAlive());
}

TEST(H1Response, BrokenResponsesAreBadGateway) {
  for (std::string_view bad :
       {"HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTX/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "HTTP/1.1 200 OK\nServer: a\n\n"}) {
    ResponseHead head;
    size_t scanned = 0;
    ParseResult result = ParseResponseHead(bad, {}, Method::kGet, head, scanned);
    EXPECT_EQ(result.status, ParseStatus::kError) << bad;
    EXPECT_EQ(result.error_status, 502) << bad;
  }
}

// Decodes a whole chunked body; returns the data, or "ERROR: why".
std::string Dechunk(std::string_view body, size_t* consumed_out = nullptr) {
  ChunkedDecoder decoder;
  std::string out;
  size_t consumed = 0;
  for (;;) {
    std::string_view data;
    auto status = decoder.Decode(body, consumed, data);
    if (status == ChunkedDecoder::Status::kData) {
      out.append(data);
      continue;
    }
    if (status == ChunkedDecoder::Status::kError) return std::string("ERROR: ") + decoder.error();
    if (status == ChunkedDecoder::Status::kNeedMore) return "INCOMPLETE";
    break;
  }
  if (consumed_out) *consumed_out = consumed;
  return out;
}

TEST(H1Chunked, DecodesChunksExtensionsAndTrailers) {
  size_t consumed = 0;
  EXPECT_EQ(Dechunk("5\r\nhello\r\n1;ext=1\r\n!\r\n0\r\nX-Trailer: t\r\n\r\nNEXT", &consumed),
            "hello!");
  EXPECT_EQ(consumed,
            std::string_view("5\r\nhello\r\n1;ext=1\r\n!\r\n0\r\nX-Trailer: t\r\n\r\n").size());
  EXPECT_EQ(Dechunk("A\r\n0123456789\r\n0\r\n\r\n"), "0123456789");
  EXPECT_EQ(Dechunk("5\r\nhel"), "INCOMPLETE");
}

TEST(H1Chunked, ByteByByteGivesTheSameData) {
  std::string body = "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  ChunkedDecoder decoder;
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    size_t consumed = 0;
    std::string_view data;
    auto status = decoder.Decode(std::string_view(body).substr(i, 1), consumed, data);
    if (status == ChunkedDecoder::Status::kData) out.append(data);
    ASSERT_NE(status, ChunkedDecoder::Status::kError) << i;
  }
  EXPECT_TRUE(decoder.done());
  EXPECT_EQ(out, "abcde");
}

TEST(H1Chunked, RefusesMalformedChunks) {
  for (std::string_view bad :
       {"x\r\n", "-5\r\nhello\r\n0\r\n\r\n", "0x5\r\nhello\r\n0\r\n\r\n", "5\nhello\r\n0\r\n\r\n",
        "5\r\nhelloX\r\n0\r\n\r\n", "5\r\nhello\n0\r\n\r\n", "1000000000000000\r\n", "\r\n",
        "5\x01\r\nhello\r\n0\r\n\r\n", "0\r\nX: a\nb\r\n\r\n"}) {
    EXPECT_TRUE(Dechunk(bad).starts_with("ERROR")) << bad;
  }
}

}  // namespace
}  // namespace gantry::http::h1
