// HTTP messages as plain values, for code that must not see Beast (API handlers, the CLI).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gantry::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// A request its handler answers later (a lock waiter, a blocking read) can be abandoned: the
// client goes away first. The handler may ask to hear of it, to stop waiting for nobody (a
// waiter that is gone must not take the lock). Used on the server's thread.
class Abandonment {
 public:
  virtual ~Abandonment() = default;
  // `callback` runs at most once, if the client leaves before the answer; the answer may still
  // be given afterwards and is then dropped.
  void OnAbandoned(std::function<void()> callback) { on_abandoned_ = std::move(callback); }

 protected:
  void Abandoned() {
    if (auto callback = std::move(on_abandoned_)) callback();
  }

 private:
  std::function<void()> on_abandoned_;
};

struct Request {
  std::string method = "GET";
  std::string target = "/";  // path and query
  Headers headers;
  std::string body;
  // Set by the server (null for a request made up elsewhere): see Abandonment.
  std::shared_ptr<Abandonment> abandonment;

  std::string_view Header(std::string_view name) const;  // case-insensitive; "" if absent
  std::string_view Path() const;                         // target without the query
  std::string_view Query() const;                        // after '?', or ""
};

// The body of an answer that goes on after its head is sent (Server-Sent Events, a followed
// log): the server sends it chunked as the producer writes. Used on the server's thread.
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // Queues `data`; false once the client is gone or reads too slowly (more than a few MiB
  // waiting): the stream is closed then and the producer should stop.
  virtual bool Write(std::string_view data) = 0;
  virtual void End() = 0;  // the body is complete; the connection closes after it
  virtual bool open() const = 0;
  // `callback` runs once when the stream closes (client gone, too slow, or End).
  virtual void OnClose(std::function<void()> callback) = 0;
  // `callback` runs once when everything written so far was handed to the client's socket
  // (at once if nothing waits): a producer with much to send writes a part, then waits here.
  // It does not run for a closed stream.
  virtual void OnWritable(std::function<void()> callback) = 0;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // When set (by a server handler), `body` is ignored: the server sends the head, then calls
  // this once with the stream to write the body into.
  std::function<void(std::shared_ptr<BodyStream>)> stream;

  std::string_view Header(std::string_view name) const;
};

// "Not Found" for 404 and so on; "Unknown" for codes gantry does not use.
std::string_view ReasonPhrase(int status);

// {"error": message, "code": code} with a JSON content type.
Response JsonError(int status, std::string_view code, std::string_view message);
// Escapes a string for a JSON string literal (without the quotes).
std::string JsonEscape(std::string_view text);
void AppendJsonEscaped(std::string& out, std::string_view text);

}  // namespace gantry::http
