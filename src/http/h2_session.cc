#include "http/h2_session.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

namespace gantry::http::h2 {

namespace {

// What we still have to send on one stream.
struct Outgoing {
  std::string data;
  size_t sent = 0;  // data[0, sent) is framed already
  bool end = false;
  std::vector<std::pair<std::string, std::string>> trailers;
};

std::vector<nghttp2_nv> ToNv(std::span<const Field> fields) {
  std::vector<nghttp2_nv> nv;
  nv.reserve(fields.size());
  for (const Field& f : fields) {
    nv.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(f.name.data())),
                  reinterpret_cast<uint8_t*>(const_cast<char*>(f.value.data())), f.name.size(),
                  f.value.size(), NGHTTP2_NV_FLAG_NONE});
  }
  return nv;
}

}  // namespace

struct Session::Impl {
  SessionHandler& handler;
  Limits limits;
  bool server;
  nghttp2_session* session = nullptr;
  std::unordered_map<int32_t, Outgoing> outgoing;
  // The header block being received: names and values back to back in `arena`.
  std::string arena;
  std::vector<std::pair<uint32_t, uint32_t>> spans;  // name length, value length
  size_t block_bytes = 0;
  bool block_too_big = false;
  uint32_t oversized_blocks = 0;
  size_t open_streams = 0;  // opened (by the peer on a server, by us on a client), not closed
  // DATA bytes received per stream and not consumed yet: a stream that closes gives its rest
  // back to the connection's window.
  std::unordered_map<int32_t, size_t> unconsumed;
  // Rapid reset (CVE-2023-44487): streams the peer resets take a token each from a bucket
  // of reset_burst refilled at reset_rate per second; an empty bucket ends the connection.
  double reset_tokens = 0;
  std::chrono::steady_clock::time_point reset_refilled = std::chrono::steady_clock::now();
  // OnDataSent calls gathered during nghttp2_session_mem_send, made after it returns.
  std::vector<std::pair<int32_t, size_t>> sent_notes;

  Impl(SessionHandler& handler, const Limits& limits, bool server)
      : handler(handler),
        limits(limits),
        server(server),
        reset_tokens(static_cast<double>(limits.reset_burst)) {}

  // False when the peer has reset streams faster than the limits allow.
  bool TakeResetToken() {
    auto now = std::chrono::steady_clock::now();
    double seconds = std::chrono::duration<double>(now - reset_refilled).count();
    reset_refilled = now;
    reset_tokens = std::min(static_cast<double>(limits.reset_burst),
                            reset_tokens + seconds * static_cast<double>(limits.reset_rate));
    if (reset_tokens < 1) return false;
    reset_tokens -= 1;
    return true;
  }
  ~Impl() {
    if (session) nghttp2_session_del(session);
  }

  static Impl& From(void* user) { return *static_cast<Impl*>(user); }

  static int OnBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    Impl& self = From(user);
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      ++self.open_streams;
    }
    self.arena.clear();
    self.spans.clear();
    self.block_bytes = 0;
    self.block_too_big = false;
    return 0;
  }

  static int OnHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    Impl& self = From(user);
    if (self.block_too_big) return 0;
    // RFC 9113 6.5.2 counts 32 bytes per field on top of its name and value.
    self.block_bytes += namelen + valuelen + 32;
    if (self.block_bytes > self.limits.max_header_list) {
      self.block_too_big = true;
      self.arena.clear();
      self.spans.clear();
      if (++self.oversized_blocks > self.limits.max_oversized_headers) {
        nghttp2_session_terminate_session(session, NGHTTP2_ENHANCE_YOUR_CALM);
        return 0;
      }
      // A server refuses the request; a client cannot take the response. REFUSED_STREAM from
      // a client would read as "the peer never acted on it" (safe to retry): it must not.
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                                self.server ? NGHTTP2_REFUSED_STREAM : NGHTTP2_INTERNAL_ERROR);
      return 0;
    }
    self.arena.append(reinterpret_cast<const char*>(name), namelen);
    self.arena.append(reinterpret_cast<const char*>(value), valuelen);
    self.spans.emplace_back(static_cast<uint32_t>(namelen), static_cast<uint32_t>(valuelen));
    return 0;
  }

  static int OnFrameRecv(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    Impl& self = From(user);
    if (frame->hd.type == NGHTTP2_RST_STREAM && self.server && !self.TakeResetToken()) {
      nghttp2_session_terminate_session(session, NGHTTP2_ENHANCE_YOUR_CALM);
      return 0;
    }
    bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (frame->hd.type == NGHTTP2_HEADERS) {
      if (self.block_too_big) return 0;  // the stream was refused
      std::vector<Field> fields;
      fields.reserve(self.spans.size());
      size_t at = 0;
      for (auto [name_len, value_len] : self.spans) {
        std::string_view name(self.arena.data() + at, name_len);
        std::string_view value(self.arena.data() + at + name_len, value_len);
        fields.push_back({name, value});
        at += name_len + value_len;
      }
      self.handler.OnHeaders(frame->hd.stream_id, fields, end_stream);
    } else if (frame->hd.type == NGHTTP2_DATA && end_stream) {
      self.handler.OnEndStream(frame->hd.stream_id);
    }
    return 0;
  }

  static int OnDataChunk(nghttp2_session*, uint8_t, int32_t stream, const uint8_t* data, size_t len,
                         void* user) {
    From(user).unconsumed[stream] += len;
    From(user).handler.OnData(stream, std::string_view(reinterpret_cast<const char*>(data), len));
    return 0;
  }

  static int OnStreamClose(nghttp2_session* session, int32_t stream, uint32_t error_code,
                           void* user) {
    Impl& self = From(user);
    self.outgoing.erase(stream);
    if (auto it = self.unconsumed.find(stream); it != self.unconsumed.end()) {
      if (it->second > 0) nghttp2_session_consume_connection(session, it->second);
      self.unconsumed.erase(it);
    }
    if (self.open_streams > 0) --self.open_streams;
    self.handler.OnStreamClose(stream, error_code);
    return 0;
  }

  static ssize_t ReadBody(nghttp2_session* session, int32_t stream, uint8_t* buf, size_t length,
                          uint32_t* flags, nghttp2_data_source*, void* user) {
    Impl& self = From(user);
    auto it = self.outgoing.find(stream);
    if (it == self.outgoing.end()) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      return 0;
    }
    Outgoing& out = it->second;
    size_t available = out.data.size() - out.sent;
    if (available == 0 && !out.end) return NGHTTP2_ERR_DEFERRED;
    size_t n = std::min(length, available);
    std::memcpy(buf, out.data.data() + out.sent, n);
    out.sent += n;
    if (out.sent == out.data.size()) {
      out.data.clear();
      out.sent = 0;
    } else if (out.sent >= 64 * 1024 && out.sent * 2 >= out.data.size()) {
      out.data.erase(0, out.sent);
      out.sent = 0;
    }
    if (out.data.empty() && out.end) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      if (!out.trailers.empty()) {
        std::vector<nghttp2_nv> nv;
        for (auto& [name, value] : out.trailers) {
          nv.push_back({reinterpret_cast<uint8_t*>(name.data()),
                        reinterpret_cast<uint8_t*>(value.data()), name.size(), value.size(),
                        NGHTTP2_NV_FLAG_NONE});
        }
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        nghttp2_submit_trailer(session, stream, nv.data(), nv.size());
      }
    }
    if (n > 0) self.sent_notes.emplace_back(stream, n);
    return static_cast<ssize_t>(n);
  }

  nghttp2_data_provider Provider() {
    nghttp2_data_provider provider{};
    provider.read_callback = &ReadBody;
    return provider;
  }
};

namespace {

std::unique_ptr<Session::Impl> MakeImpl(SessionHandler& handler, const Limits& limits,
                                        bool server) {
  auto impl = std::make_unique<Session::Impl>(handler, limits, server);
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks,
                                                          &Session::Impl::OnBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &Session::Impl::OnHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Session::Impl::OnFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &Session::Impl::OnDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &Session::Impl::OnStreamClose);
  nghttp2_option* option = nullptr;
  nghttp2_option_new(&option);
  nghttp2_option_set_no_auto_window_update(option, 1);
  nghttp2_option_set_max_outbound_ack(option, limits.max_queued_control);
  nghttp2_option_set_max_settings(option, limits.max_settings_entries);
  nghttp2_option_set_max_continuations(option, limits.max_continuations);
  nghttp2_option_set_max_deflate_dynamic_table_size(option, 4096);
  if (server) {
    nghttp2_session_server_new2(&impl->session, callbacks, impl.get(), option);
  } else {
    nghttp2_session_client_new2(&impl->session, callbacks, impl.get(), option);
  }
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);

  nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limits.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, limits.stream_window},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, limits.max_header_list},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
  };
  // Only a client turns push off (RFC 9113 6.5.2: push is the server's to make).
  size_t count = server ? 3 : 4;
  nghttp2_submit_settings(impl->session, NGHTTP2_FLAG_NONE, settings, count);
  int32_t extra = static_cast<int32_t>(limits.connection_window) - NGHTTP2_INITIAL_WINDOW_SIZE;
  if (extra > 0) nghttp2_submit_window_update(impl->session, NGHTTP2_FLAG_NONE, 0, extra);
  return impl;
}

}  // namespace

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

std::unique_ptr<Session> Session::Server(SessionHandler& handler, const Limits& limits) {
  return std::unique_ptr<Session>(new Session(MakeImpl(handler, limits, true)));
}

std::unique_ptr<Session> Session::Client(SessionHandler& handler, const Limits& limits) {
  return std::unique_ptr<Session>(new Session(MakeImpl(handler, limits, false)));
}

absl::Status Session::Receive(std::string_view bytes) {
  ssize_t n = nghttp2_session_mem_recv(
      impl_->session, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (n < 0) {
    int code = static_cast<int>(n);
    uint32_t reason =
        code == NGHTTP2_ERR_FLOODED ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR;
    nghttp2_session_terminate_session(impl_->session, reason);
    return absl::InvalidArgumentError(fmt::format("HTTP/2: {}", nghttp2_strerror(code)));
  }
  return absl::OkStatus();
}

bool Session::TakeOutput(std::string& out) {
  bool any = false;
  for (;;) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(impl_->session, &data);
    if (n <= 0) break;
    out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    any = true;
  }
  // Told only now, outside nghttp2's callbacks: the handler may drive other sessions.
  std::vector<std::pair<int32_t, size_t>> notes;
  notes.swap(impl_->sent_notes);
  for (auto [stream, bytes] : notes) impl_->handler.OnDataSent(stream, bytes);
  return any;
}

bool Session::Alive() const {
  return nghttp2_session_want_read(impl_->session) || nghttp2_session_want_write(impl_->session);
}

int32_t Session::SubmitRequest(std::span<const Field> fields, bool end_stream) {
  if (!nghttp2_session_check_request_allowed(impl_->session)) return 0;
  std::vector<nghttp2_nv> nv = ToNv(fields);
  nghttp2_data_provider provider = impl_->Provider();
  int32_t stream = nghttp2_submit_request(impl_->session, nullptr, nv.data(), nv.size(),
                                          end_stream ? nullptr : &provider, nullptr);
  if (stream <= 0) return 0;
  ++impl_->open_streams;
  if (!end_stream) impl_->outgoing[stream];
  return stream;
}

bool Session::SubmitResponse(int32_t stream, std::span<const Field> fields, bool end_stream) {
  std::vector<nghttp2_nv> nv = ToNv(fields);
  nghttp2_data_provider provider = impl_->Provider();
  if (!end_stream) impl_->outgoing[stream];
  int rv = nghttp2_submit_response(impl_->session, stream, nv.data(), nv.size(),
                                   end_stream ? nullptr : &provider);
  if (rv != 0) {
    impl_->outgoing.erase(stream);
    return false;
  }
  return true;
}

void Session::SendData(int32_t stream, std::string_view data) {
  auto it = impl_->outgoing.find(stream);
  if (it == impl_->outgoing.end() || it->second.end) return;
  it->second.data.append(data);
  nghttp2_session_resume_data(impl_->session, stream);
}

void Session::SendEnd(int32_t stream, std::span<const Field> trailers) {
  auto it = impl_->outgoing.find(stream);
  if (it == impl_->outgoing.end() || it->second.end) return;
  it->second.end = true;
  for (const Field& f : trailers) it->second.trailers.emplace_back(f.name, f.value);
  nghttp2_session_resume_data(impl_->session, stream);
}

size_t Session::Queued(int32_t stream) const {
  auto it = impl_->outgoing.find(stream);
  return it == impl_->outgoing.end() ? 0 : it->second.data.size() - it->second.sent;
}

void Session::Reset(int32_t stream, uint32_t error_code) {
  nghttp2_submit_rst_stream(impl_->session, NGHTTP2_FLAG_NONE, stream, error_code);
}

void Session::Consume(int32_t stream, size_t bytes) {
  auto it = impl_->unconsumed.find(stream);
  if (it == impl_->unconsumed.end()) return;  // closed: its bytes were given back then
  bytes = std::min(bytes, it->second);
  it->second -= bytes;
  if (bytes > 0) nghttp2_session_consume(impl_->session, stream, bytes);
}

void Session::Shutdown(uint32_t error_code) {
  if (error_code == kNoError) {
    nghttp2_submit_shutdown_notice(impl_->session);
    nghttp2_submit_goaway(impl_->session, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(impl_->session), kNoError,
                          nullptr, 0);
  } else {
    nghttp2_session_terminate_session(impl_->session, error_code);
  }
}

size_t Session::OpenStreams() const { return impl_->open_streams; }

bool Session::CanOpenStream() const {
  if (!nghttp2_session_check_request_allowed(impl_->session)) return false;
  uint32_t max =
      nghttp2_session_get_remote_settings(impl_->session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
  return impl_->open_streams < max;
}

}  // namespace gantry::http::h2
