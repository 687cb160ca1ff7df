// http::FetchStreaming (client.h): plain blocking sockets and the data plane's HTTP/1.1 parsers.
#include <poll.h>

#include <fmt/format.h>

#include <boost/asio/write.hpp>

#include "core/status.h"
#include "http/client.h"
#include "http/h1_chunked.h"
#include "http/h1_head.h"
#include "net/listen.h"

namespace gantry::http {

namespace {

constexpr size_t kMaxErrorBody = size_t{1} << 20;
const h1::Limits kLimits{.max_request_line = 8 * 1024, .max_head = 64 * 1024, .max_headers = 100};

// Reads more into `buffer`; false at the end of the stream (or an error).
bool ReadMore(net::tcp::socket& socket, std::string& buffer) {
  char chunk[16 * 1024];
  boost::system::error_code ec;
  size_t n = socket.read_some(net::asio::buffer(chunk), ec);
  buffer.append(chunk, n);
  return !ec && n > 0;
}

// Waits until the socket is readable or the deadline passes.
bool Readable(net::tcp::socket& socket, Duration timeout) {
  pollfd p{socket.native_handle(), POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
}

}  // namespace

absl::StatusOr<Response> FetchStreaming(const HostPort& server, const Request& request,
                                        Duration connect_timeout,
                                        const std::function<bool(std::string_view)>& on_data) {
  GANTRY_ASSIGN_OR_RETURN(net::tcp::endpoint endpoint, net::ToEndpoint(server));
  net::asio::io_context io;
  net::tcp::socket socket(io);
  boost::system::error_code ec;
  socket.connect(endpoint, ec);
  if (ec) {
    return absl::UnavailableError(
        fmt::format("cannot connect to {}: {}", server.ToString(), ec.message()));
  }
  std::string wire = fmt::format("{} {} HTTP/1.1\r\nHost: {}\r\n", request.method, request.target,
                                 server.ToString());
  for (const auto& [name, value] : request.headers) wire += fmt::format("{}: {}\r\n", name, value);
  wire += fmt::format("Content-Length: {}\r\n\r\n", request.body.size());
  wire += request.body;
  net::asio::write(socket, net::asio::buffer(wire), ec);
  if (ec) return absl::UnavailableError(fmt::format("request failed: {}", ec.message()));

  std::string buffer;
  h1::ResponseHead head;
  size_t scanned = 0;
  for (;;) {
    head.ResetFacts();
    auto parsed =
        h1::ParseResponseHead(buffer, kLimits, h1::MethodOf(request.method), head, scanned);
    if (parsed.status == h1::ParseStatus::kComplete) break;
    if (parsed.status == h1::ParseStatus::kError) {
      return absl::UnavailableError(fmt::format("bad response: {}", parsed.error));
    }
    if (!Readable(socket, connect_timeout)) {
      return absl::DeadlineExceededError(
          fmt::format("no answer within {}", FormatDuration(connect_timeout)));
    }
    if (!ReadMore(socket, buffer)) return absl::UnavailableError("connection closed");
  }
  Response response;
  response.status = head.status;
  for (size_t i = 0; i < head.header_count; ++i) {
    response.headers.emplace_back(head.headers[i].name, head.headers[i].value);
  }
  h1::Framing framing = head.framing;
  uint64_t remaining = head.content_length;
  buffer.erase(0, head.head_size);
  bool success = response.status / 100 == 2;
  // A non-2xx answer is kept whole (bounded) for the caller to read its error.
  auto deliver = [&](std::string_view data) {
    if (success) return on_data(data);
    if (response.body.size() + data.size() > kMaxErrorBody) return false;
    response.body.append(data);
    return true;
  };
  h1::ChunkedDecoder decoder;
  for (;;) {
    if (framing == h1::Framing::kNone) break;
    if (framing == h1::Framing::kChunked) {
      bool stop = false;
      for (;;) {
        size_t consumed = 0;
        std::string_view data;
        auto status = decoder.Decode(buffer, consumed, data);
        bool more = status != h1::ChunkedDecoder::Status::kData || deliver(data);
        buffer.erase(0, consumed);
        if (!more || status == h1::ChunkedDecoder::Status::kDone) {
          stop = true;
          break;
        }
        if (status == h1::ChunkedDecoder::Status::kError) {
          return absl::UnavailableError(fmt::format("bad chunked body: {}", decoder.error()));
        }
        if (status == h1::ChunkedDecoder::Status::kNeedMore) break;
      }
      if (stop) break;
    } else if (!buffer.empty()) {
      std::string_view data = buffer;
      if (framing == h1::Framing::kLength) data = data.substr(0, remaining);
      remaining -= std::min<uint64_t>(remaining, data.size());
      bool more = deliver(data);
      buffer.clear();
      if (!more || (framing == h1::Framing::kLength && remaining == 0)) break;
    } else if (framing == h1::Framing::kLength && remaining == 0) {
      break;
    }
    if (!ReadMore(socket, buffer)) {
      if (framing == h1::Framing::kUntilClose) break;
      return absl::UnavailableError("the connection closed in the middle of the body");
    }
  }
  return response;
}

}  // namespace gantry::http
