#include "broker/peer_clients.h"

#include <cstdlib>
#include <stdexcept>

#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include "http_client.h"

namespace gantry::bench {

namespace asio = net::asio;
using net::tcp;

namespace {

// Takes one "\r\n"-terminated line off the front of `buffer`, reading more as needed.
asio::awaitable<std::string> Line(tcp::socket& socket, std::string& buffer) {
  size_t end = co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer), "\r\n",
                                               asio::use_awaitable);
  std::string line = buffer.substr(0, end - 2);
  buffer.erase(0, end);
  co_return line;
}

// Takes `n` payload bytes and their "\r\n".
asio::awaitable<std::string> Payload(tcp::socket& socket, std::string& buffer, size_t n) {
  co_await Fill(socket, buffer, n + 2);
  std::string payload = buffer.substr(0, n);
  buffer.erase(0, n + 2);
  co_return payload;
}

std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> words;
  size_t pos = 0;
  while (pos < line.size()) {
    size_t end = line.find(' ', pos);
    if (end == std::string::npos) end = line.size();
    if (end > pos) words.push_back(line.substr(pos, end - pos));
    pos = end + 1;
  }
  return words;
}

int inbox_counter = 0;

}  // namespace

asio::awaitable<NatsConn> NatsConn::Open(const HostPort& addr) {
  NatsConn conn(co_await Connect(addr));
  std::string info = co_await Line(conn.socket_, conn.buffer_);
  if (info.rfind("INFO", 0) != 0) throw std::runtime_error("nats: no INFO: " + info);
  conn.inbox_ = "_INBOX.bench" + std::to_string(++inbox_counter);
  std::string hello =
      "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true,\"no_responders\":true}\r\n"
      "SUB " +
      conn.inbox_ + " 1\r\nPING\r\n";
  co_await asio::async_write(conn.socket_, asio::buffer(hello), asio::use_awaitable);
  for (;;) {
    std::string line = co_await Line(conn.socket_, conn.buffer_);
    if (line == "PONG") break;
    if (line.rfind("-ERR", 0) == 0) throw std::runtime_error("nats: " + line);
  }
  co_return conn;
}

asio::awaitable<void> NatsConn::Pub(const std::string& subject, const std::string& reply,
                                    const std::string& payload) {
  std::string frame = "PUB " + subject + (reply.empty() ? "" : " " + reply) + " " +
                      std::to_string(payload.size()) + "\r\n" + payload + "\r\n";
  co_await asio::async_write(socket_, asio::buffer(frame), asio::use_awaitable);
}

asio::awaitable<void> NatsConn::Sub(const std::string& subject, int sid) {
  std::string frame = "SUB " + subject + " " + std::to_string(sid) + "\r\n";
  co_await asio::async_write(socket_, asio::buffer(frame), asio::use_awaitable);
}

asio::awaitable<NatsConn::Msg> NatsConn::Next() {
  for (;;) {
    std::string line = co_await Line(socket_, buffer_);
    if (line == "PING") {
      co_await asio::async_write(socket_, asio::buffer(std::string("PONG\r\n")),
                                 asio::use_awaitable);
      continue;
    }
    if (line.rfind("-ERR", 0) == 0) throw std::runtime_error("nats: " + line);
    std::vector<std::string> words = Words(line);
    if (words.empty()) continue;
    if (words[0] == "MSG") {  // MSG subject sid [reply] size
      Msg msg{words[1], words.size() == 5 ? words[3] : "", ""};
      msg.payload = co_await Payload(socket_, buffer_, std::stoul(words.back()));
      co_return msg;
    }
    if (words[0] == "HMSG") {  // HMSG subject sid [reply] header-size total-size
      Msg msg{words[1], words.size() == 6 ? words[3] : "", ""};
      size_t headers = std::stoul(words[words.size() - 2]);
      std::string all = co_await Payload(socket_, buffer_, std::stoul(words.back()));
      msg.payload = all.substr(headers);
      if (all.find(" 503") != std::string::npos && msg.payload.empty()) {
        throw std::runtime_error("nats: no responders for a request");
      }
      co_return msg;
    }
  }
}

asio::awaitable<std::string> NatsConn::Request(const std::string& subject,
                                               const std::string& payload) {
  co_await Pub(subject, inbox_, payload);
  Msg msg = co_await Next();
  co_return msg.payload;
}

std::string RespCommand(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& arg : args) {
    out += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
  }
  return out;
}

asio::awaitable<RespValue> ReadResp(tcp::socket& socket, std::string& buffer) {
  std::string line = co_await Line(socket, buffer);
  if (line.empty()) throw std::runtime_error("redis: empty reply line");
  RespValue value;
  value.kind = line[0];
  value.text = line.substr(1);
  if (value.kind == '$' || value.kind == '*') {
    long n = std::strtol(value.text.c_str(), nullptr, 10);
    value.text.clear();
    if (n < 0) {
      value.nil = true;
    } else if (value.kind == '$') {
      value.text = co_await Payload(socket, buffer, static_cast<size_t>(n));
    } else {
      for (long i = 0; i < n; ++i) value.items.push_back(co_await ReadResp(socket, buffer));
    }
  }
  co_return value;
}

}  // namespace gantry::bench
