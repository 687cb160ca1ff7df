#include "store/etcd/etcd_codec.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <grpcpp/support/status.h>

#include <algorithm>

#include "core/address.h"

namespace gantry::store::etcd {

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();  // 0xff has no successor: the range ends where its parent's does
  }
  return std::string(1, '\0');
}

void Codec::SetRange(const KeyRange& range, std::string* key, std::string* range_end) const {
  *key = EtcdKey(range.key);
  if (range.prefix) *range_end = PrefixEnd(*key);
}

KeyValue Codec::FromEtcd(const etcdserverpb::KeyValue& kv) const {
  KeyValue out;
  std::string_view key = kv.key();
  if (key.starts_with(prefix_)) key.remove_prefix(prefix_.size());
  out.key = std::string(key);
  out.value = kv.value();
  out.create_revision = kv.create_revision();
  out.mod_revision = kv.mod_revision();
  out.version = kv.version();
  out.lease = kv.lease();
  return out;
}

absl::StatusOr<Event> Codec::FromEtcd(const etcdserverpb::Event& event) const {
  Event out;
  switch (event.type()) {
    case etcdserverpb::Event::PUT:
      out.type = Event::Type::kPut;
      out.kv = FromEtcd(event.kv());
      return out;
    case etcdserverpb::Event::DELETE:
      out.type = Event::Type::kDelete;
      out.kv.key = FromEtcd(event.kv()).key;
      out.kv.mod_revision = event.kv().mod_revision();
      return out;
    default:
      return absl::InternalError(
          fmt::format("etcd sent an event of unknown type {}", static_cast<int>(event.type())));
  }
}

etcdserverpb::Compare Codec::ToEtcd(const Compare& compare) const {
  etcdserverpb::Compare out;
  out.set_key(EtcdKey(compare.key));
  switch (compare.op) {
    case Compare::Op::kEqual:
      out.set_result(etcdserverpb::Compare::EQUAL);
      break;
    case Compare::Op::kNotEqual:
      out.set_result(etcdserverpb::Compare::NOT_EQUAL);
      break;
    case Compare::Op::kLess:
      out.set_result(etcdserverpb::Compare::LESS);
      break;
    case Compare::Op::kGreater:
      out.set_result(etcdserverpb::Compare::GREATER);
      break;
  }
  switch (compare.target) {
    case Compare::Target::kVersion:
      out.set_target(etcdserverpb::Compare::VERSION);
      out.set_version(compare.number);
      break;
    case Compare::Target::kCreateRevision:
      out.set_target(etcdserverpb::Compare::CREATE);
      out.set_create_revision(compare.number);
      break;
    case Compare::Target::kModRevision:
      out.set_target(etcdserverpb::Compare::MOD);
      out.set_mod_revision(compare.number);
      break;
    case Compare::Target::kValue:
      out.set_target(etcdserverpb::Compare::VALUE);
      out.set_value(compare.value);
      break;
    case Compare::Target::kLease:
      out.set_target(etcdserverpb::Compare::LEASE);
      out.set_lease(compare.number);
      break;
  }
  return out;
}

etcdserverpb::RequestOp Codec::ToEtcd(const TxnOp& op) const {
  etcdserverpb::RequestOp out;
  switch (op.type) {
    case TxnOp::Type::kGet: {
      auto* range = out.mutable_request_range();
      SetRange(op.range, range->mutable_key(), range->mutable_range_end());
      break;
    }
    case TxnOp::Type::kPut: {
      auto* put = out.mutable_request_put();
      put->set_key(EtcdKey(op.range.key));
      put->set_value(op.value);
      put->set_lease(op.lease);
      put->set_prev_kv(true);  // the Store answers a put with the value it replaced
      break;
    }
    case TxnOp::Type::kDelete: {
      auto* del = out.mutable_request_delete_range();
      SetRange(op.range, del->mutable_key(), del->mutable_range_end());
      break;
    }
  }
  return out;
}

etcdserverpb::TxnRequest Codec::ToEtcd(const TxnRequest& request) const {
  etcdserverpb::TxnRequest out;
  for (const Compare& compare : request.compares) *out.add_compare() = ToEtcd(compare);
  for (const TxnOp& op : request.success) *out.add_success() = ToEtcd(op);
  for (const TxnOp& op : request.failure) *out.add_failure() = ToEtcd(op);
  return out;
}

TxnOpResult Codec::FromEtcd(const etcdserverpb::ResponseOp& response) const {
  TxnOpResult out;
  if (response.has_response_range()) {
    for (const auto& kv : response.response_range().kvs()) out.kvs.push_back(FromEtcd(kv));
  } else if (response.has_response_put()) {
    if (response.response_put().has_prev_kv())
      out.kvs.push_back(FromEtcd(response.response_put().prev_kv()));
  } else if (response.has_response_delete_range()) {
    out.deleted = response.response_delete_range().deleted();
  }
  return out;
}

absl::Status FromGrpc(const ::grpc::Status& status) {
  std::string message = fmt::format("etcd: {}", status.error_message());
  switch (status.error_code()) {
    case ::grpc::StatusCode::OUT_OF_RANGE:
      return absl::OutOfRangeError(message);
    case ::grpc::StatusCode::NOT_FOUND:
      return absl::NotFoundError(message);
    case ::grpc::StatusCode::RESOURCE_EXHAUSTED:
      return absl::ResourceExhaustedError(message);
    case ::grpc::StatusCode::INVALID_ARGUMENT:
      return absl::InvalidArgumentError(message);
    case ::grpc::StatusCode::FAILED_PRECONDITION:
      return absl::FailedPreconditionError(message);
    case ::grpc::StatusCode::PERMISSION_DENIED:
      return absl::PermissionDeniedError(message);
    case ::grpc::StatusCode::UNAUTHENTICATED:
      return absl::UnauthenticatedError(message);
    case ::grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::UnavailableError("etcd did not answer in time");
    default:
      return absl::UnavailableError(message);
  }
}

absl::StatusOr<std::string> ChannelTarget(const std::vector<std::string>& endpoints) {
  if (endpoints.empty()) return absl::InvalidArgumentError("etcd: no endpoint given");
  std::vector<std::string> addresses;
  for (const std::string& endpoint : endpoints) {
    auto parsed = ParseHostPort(endpoint);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("etcd endpoint {}: {}", endpoint, std::string(parsed.status().message())));
    }
    addrinfo hints{};
    hints.ai_family = AF_INET;  // gRPC's ipv4: scheme; IPv6 members are not supported yet
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (int error = ::getaddrinfo(parsed->host.c_str(), nullptr, &hints, &found); error != 0) {
      return absl::UnavailableError(fmt::format("etcd endpoint {}: {} (IPv4 addresses only)",
                                                endpoint, ::gai_strerror(error)));
    }
    for (addrinfo* a = found; a; a = a->ai_next) {
      char text[INET_ADDRSTRLEN] = {};
      auto* in = reinterpret_cast<sockaddr_in*>(a->ai_addr);
      ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
      std::string address = fmt::format("{}:{}", text, parsed->port);
      if (std::find(addresses.begin(), addresses.end(), address) == addresses.end())
        addresses.push_back(address);
    }
    ::freeaddrinfo(found);
  }
  return fmt::format("ipv4:{}", fmt::join(addresses, ","));
}

bool SafeToRetryWrite(const ::grpc::Status& status) {
  if (status.error_code() != ::grpc::StatusCode::UNAVAILABLE) return false;
  // etcd's ErrNoLeader is answered before the proposal; a failed connect never sent anything.
  const std::string& message = status.error_message();
  return message == "etcdserver: no leader" ||
         message.find("failed to connect") != std::string::npos;
}

}  // namespace gantry::store::etcd
