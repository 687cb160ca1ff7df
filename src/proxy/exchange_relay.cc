// The response side of an Exchange: reading the head (and deciding on a retry by its status),
// then relaying the body by its framing.
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "net/socket.h"
#include "proxy/client_conn.h"
#include "proxy/exchange.h"
#include "proxy/rewrite.h"
#include "proxy/upstream_conn.h"

namespace gantry::proxy {

using http::h1::Framing;
using http::h1::ParseStatus;

void Exchange::ReadResponse() {
  for (;;) {
    UpstreamConn& upstream = *upstream_;
    if (!upstream.in) upstream.in = worker_.buffers().Acquire();
    IoBuffer& in = *upstream.in;
    if (in.space() == 0) in.Compact();
    if (in.space() == 0) return TryFailed(TryOutcome::kReset, "response head too large");
    size_t want = in.space();
    ssize_t n = net::Recv(upstream.fd(), in.write_ptr(), want);
    if (n > 0) {
      in.end += static_cast<size_t>(n);
      got_response_bytes_ = true;
      // Drained for now, unless a FIN came too: then read on to see the EOF (no edge will).
      if (static_cast<size_t>(n) < want && !upstream.peer_closed) upstream.readable = false;
      if (!ProcessResponse()) return;
      if (!upstream.readable) return;
      continue;
    }
    if (n == 0) return OnUpstreamEof();
    if (errno == EAGAIN || errno == EINTR) {
      upstream.readable = false;
      return;
    }
    return TryFailed(TryOutcome::kReset, strerror(errno));
  }
}

bool Exchange::ProcessResponse() {
  IoBuffer& in = *upstream_->in;
  while (phase_ == Phase::kReadingHead) {
    http::h1::ResponseHead& head = worker_.response_head();
    std::string_view data(in.read_ptr(), in.size());
    http::h1::ParseResult result =
        http::h1::ParseResponseHead(data, {}, info_.method, head, head_scanned_);
    if (result.status == ParseStatus::kIncomplete) return true;
    if (result.status == ParseStatus::kError) {
      TryFailed(TryOutcome::kReset, result.error);
      return false;
    }
    if (head.status == 101) {
      if (!info_.upgrade.empty()) return CommitTunnel(head);
      TryFailed(TryOutcome::kReset, "unrequested 101 Switching Protocols");  // gantry never asked
      return false;
    }
    if (head.status < 200) {  // interim: gantry answered 100 itself; skip them all
      in.Consume(head.head_size);
      head_scanned_ = 0;
      continue;
    }
    worker_.RecordLatency(cluster_, *endpoint_, worker_.loop().now_us() - try_start_us_);
    NoteTryResult(head.status, false);
    EndTry();
    if (runtime_.retry_policy.RetriesStatus(head.status) &&
        TakeRetry(TryOutcome::kStatus, head.status)) {
      // The rest of this response is not read, so its connection cannot be used again.
      ReleaseUpstream(false);
      ScheduleRetry();
      return false;
    }
    if (!Commit(head)) return false;
  }
  return Relay();
}

bool Exchange::Commit(const http::h1::ResponseHead& head) {
  EndTry();
  status_ = head.status;
  framing_ = head.framing;
  body_remaining_ = head.content_length;
  upstream_keep_alive_ = head.KeepAlive();
  bool http10 = info_.client_minor == 0;
  dechunk_ = framing_ == Framing::kChunked && http10;
  if (framing_ == Framing::kUntilClose || dechunk_) client_keep_alive_ = false;
  if (framing_ == Framing::kChunked) chunked_.Reset();
  DownstreamHeadInput out;
  out.head = &head;
  out.close = !client_keep_alive_;
  out.keep_alive_header = http10 && client_keep_alive_;
  out.drop_transfer_encoding = dechunk_;
  head_out_.clear();
  AppendDownstreamHead(out, head_out_);
  upstream_->in->Consume(head.head_size);
  phase_ = Phase::kRelaying;
  return true;
}

bool Exchange::Relay() {
  IoBuffer& in = *upstream_->in;
  bool done = false;
  bool clean = true;  // nothing past the response: the connection may be reused
  std::string_view piece;
  switch (framing_) {
    case Framing::kNone:
      done = true;
      clean = in.size() == 0;
      break;
    case Framing::kLength: {
      size_t take = static_cast<size_t>(std::min<uint64_t>(in.size(), body_remaining_));
      piece = std::string_view(in.read_ptr(), take);
      body_remaining_ -= take;
      done = body_remaining_ == 0;
      clean = in.size() == take;
      break;
    }
    case Framing::kUntilClose:
      piece = std::string_view(in.read_ptr(), in.size());
      break;
    case Framing::kChunked: {
      std::string_view data(in.read_ptr(), in.size());
      size_t consumed = 0;
      for (;;) {
        std::string_view chunk;
        auto status = chunked_.Decode(data, consumed, chunk);
        if (status == http::h1::ChunkedDecoder::Status::kData) {
          if (dechunk_) head_out_.append(chunk);  // an HTTP/1.0 client gets the data only
          continue;
        }
        if (status == http::h1::ChunkedDecoder::Status::kError) {
          TryFailed(TryOutcome::kReset, chunked_.error());
          return false;
        }
        break;
      }
      // HTTP/1.1 clients get the chunks as they came (checked on the way).
      piece = dechunk_ ? std::string_view() : data.substr(0, consumed);
      if (dechunk_) in.Consume(consumed);
      done = chunked_.done();
      clean = in.size() == piece.size();
      break;
    }
  }
  in.Consume(piece.size());  // only offsets move: `piece` stays readable until the next recv
  bool sent = client_.Send(head_out_, piece);
  if (!sent) return false;  // the client is gone; it cancelled this exchange
  responded_ = true;
  head_out_.clear();
  if (done) {
    Finish(upstream_keep_alive_ && clean && info_.method != http::h1::Method::kHead);
    return false;
  }
  if (client_.output_pending()) {
    paused_ = true;
    return false;
  }
  return true;
}

void Exchange::OnClientDrained() {
  if (paused_ && phase_ == Phase::kTunnel) {
    paused_ = false;
    if (upstream_ && upstream_->readable) TunnelFromUpstream();
    return;
  }
  if (!paused_ || phase_ != Phase::kRelaying) return;
  paused_ = false;
  if (upstream_->in && upstream_->in->size() > 0 && !Relay()) return;
  if (upstream_->readable) ReadResponse();
}

void Exchange::OnUpstreamEof() {
  upstream_->readable = false;
  if (phase_ == Phase::kRelaying && framing_ == Framing::kUntilClose) {
    IoBuffer& in = *upstream_->in;
    std::string_view rest(in.read_ptr(), in.size());
    in.Consume(rest.size());
    if (client_.Send(head_out_, rest)) {
      responded_ = true;
      Finish(false);
    }
    return;
  }
  TryFailed(TryOutcome::kReset, got_response_bytes_
                                    ? "connection closed in the middle of the response"
                                    : "connection closed before the response");
}

}  // namespace gantry::proxy
