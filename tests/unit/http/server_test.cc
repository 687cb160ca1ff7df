// The control plane's HTTP/1.1 server, driven by raw sockets: framing, keep-alive and
// pipelining, refusals of malformed input, and streamed answers.
#include "http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "net/asio.h"

namespace gantry::http {
namespace {

class ServerTest : public ::testing::Test {
 protected:
  void StartWith(Handler handler) {
    auto server = Server::Create(io_, HostPort{"127.0.0.1", 0}, std::move(handler));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    server_->Start();
    guard_.emplace(io_.get_executor());
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    if (thread_.joinable()) {
      net::asio::post(io_, [this] {
        server_->Stop();
        guard_.reset();
        io_.stop();
      });
      thread_.join();
    }
  }

  int Connect() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(server_->address().port);
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    return fd;
  }
  static void Send(int fd, std::string_view data) {
    ASSERT_EQ(::send(fd, data.data(), data.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(data.size()));
  }
  // Reads until the peer closes (or 5 s pass).
  static std::string ReadToClose(int fd) {
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // Reads until `text` has appeared `times` times.
  static std::string ReadUntil(int fd, std::string_view text, int times = 1) {
    std::string out;
    char buf[4096];
    auto count = [&] {
      int n = 0;
      for (size_t pos = out.find(text); pos != std::string::npos; pos = out.find(text, pos + 1))
        ++n;
      return n;
    };
    while (count() < times) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

  static Handler Echo() {
    return [](Request request, Respond respond) {
      Response response;
      response.headers.emplace_back("X-Method", request.method);
      response.body = request.target + "|" + request.body;
      respond(std::move(response));
    };
  }

  net::asio::io_context io_;
  std::unique_ptr<Server> server_;
  std::optional<net::asio::executor_work_guard<net::asio::io_context::executor_type>> guard_;
  std::thread thread_;
};

TEST_F(ServerTest, AnswersPipelinedRequestsInOrderOnOneConnection) {
  StartWith(Echo());
  int fd = Connect();
  Send(fd,
       "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
       "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
       "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
       "chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
       "HEAD /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string out = ReadToClose(fd);
  ::close(fd);
  size_t a = out.find("/a|"), b = out.find("/b|hello"), c = out.find("/c|abcde");
  ASSERT_NE(a, std::string::npos) << out;
  ASSERT_NE(b, std::string::npos) << out;
  ASSERT_NE(c, std::string::npos) << out;
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_NE(out.find("X-Method: POST"), std::string::npos);
  // HEAD: the GET's length, no body, and the close asked for.
  size_t head = out.rfind("HTTP/1.1 200 OK");
  EXPECT_NE(out.find("Content-Length: 3\r\nConnection: close\r\n\r\n", head), std::string::npos)
      << out.substr(head);
  EXPECT_TRUE(out.ends_with("\r\n\r\n")) << out.substr(head);
}

TEST_F(ServerTest, HttpOneZeroClosesUnlessAskedToKeepAlive) {
  StartWith(Echo());
  int fd = Connect();
  Send(fd, "GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  std::string first = ReadUntil(fd, "/x|");
  EXPECT_NE(first.find("Connection: keep-alive"), std::string::npos) << first;
  Send(fd, "GET /y HTTP/1.0\r\n\r\n");
  std::string second = ReadToClose(fd);  // closed after it
  ::close(fd);
  EXPECT_NE(second.find("Connection: close"), std::string::npos) << second;
  EXPECT_NE(second.find("/y|"), std::string::npos) << second;
}

TEST_F(ServerTest, RefusesMalformedAndOversizedRequestsAndKeepsServing) {
  StartWith(Echo());
  struct Case {
    std::string request;
    std::string status;
  };
  std::vector<Case> cases = {
      {"GARBAGE\r\n\r\n", "HTTP/1.1 400"},
      {"GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 400"},  // HTTP/1.1 without Host
      {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
       "HTTP/1.1 400"},
      {"GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(20000, 'a') + "\r\n\r\n", "HTTP/1.1 431"},
      {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9000000\r\n\r\n", "HTTP/1.1 413"},
      {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "HTTP/1.1 400"},
      {"GET / HTTP/2.0\r\n\r\n", "HTTP/1.1 505"},
  };
  for (const Case& c : cases) {
    int fd = Connect();
    Send(fd, c.request);
    std::string out = ReadToClose(fd);  // answered, then closed
    ::close(fd);
    EXPECT_TRUE(out.starts_with(c.status)) << c.request.substr(0, 60) << " -> " << out;
    EXPECT_NE(out.find("\"code\""), std::string::npos) << out;
  }
  int fd = Connect();
  Send(fd, "GET /still HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(ReadToClose(fd).find("/still|"), std::string::npos);
  ::close(fd);
}

TEST_F(ServerTest, SendsContinueBeforeReadingAnAnnouncedBody) {
  StartWith(Echo());
  int fd = Connect();
  Send(fd, "PUT /e HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_TRUE(ReadUntil(fd, "\r\n\r\n").starts_with("HTTP/1.1 100 Continue"));
  Send(fd, "abc");
  EXPECT_NE(ReadUntil(fd, "/e|abc").find("/e|abc"), std::string::npos);
  ::close(fd);
}

TEST_F(ServerTest, StreamsABodyChunkedAndTellsTheProducerWhenTheClientLeaves) {
  std::shared_ptr<BodyStream> stream;
  std::atomic<bool> closed{false};
  std::atomic<int> writable{0};
  StartWith([&](Request, Respond respond) {
    Response response;
    response.headers.emplace_back("Content-Type", "text/event-stream");
    response.stream = [&](std::shared_ptr<BodyStream> s) {
      stream = s;
      s->OnClose([&] { closed = true; });
      s->Write("data: one\n\n");
      s->OnWritable([&] { ++writable; });
    };
    respond(std::move(response));
  });
  int fd = Connect();
  Send(fd, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string head = ReadUntil(fd, "data: one");
  EXPECT_NE(head.find("Transfer-Encoding: chunked"), std::string::npos) << head;
  EXPECT_NE(head.find("Connection: close"), std::string::npos) << head;
  EXPECT_NE(head.find("b\r\ndata: one\n\n\r\n"), std::string::npos) << head;
  // More, written from the loop later.
  net::asio::post(io_, [&] { stream->Write("data: two\n\n"); });
  EXPECT_NE(ReadUntil(fd, "data: two").find("data: two"), std::string::npos);
  for (int i = 0; i < 500 && writable == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(writable.load(), 1);  // once, when what was written had gone out
  ::close(fd);
  for (int i = 0; i < 500 && !closed; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(closed.load());
  std::atomic<bool> refused{false};
  net::asio::post(io_, [&] { refused = !stream->Write("data: three\n\n"); });
  for (int i = 0; i < 500 && !refused; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(refused.load());
}

TEST_F(ServerTest, EndsAStreamWithTheLastChunk) {
  StartWith([](Request, Respond respond) {
    Response response;
    response.stream = [](std::shared_ptr<BodyStream> s) {
      s->Write("abc");
      s->End();
    };
    respond(std::move(response));
  });
  int fd = Connect();
  Send(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string out = ReadToClose(fd);
  ::close(fd);
  EXPECT_TRUE(out.ends_with("3\r\nabc\r\n0\r\n\r\n")) << out;
}

}  // namespace
}  // namespace gantry::http
