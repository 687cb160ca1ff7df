#include "store/etcd/etcd_store.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <grpcpp/grpcpp.h>

#include <boost/asio/steady_timer.hpp>

#include "core/status.h"
#include "store/etcd/call_tracker.h"
#include "store/etcd/etcd_codec.h"
#include "store/etcd/etcd_keepalives.h"
#include "store/etcd/etcd_rpc.grpc.pb.h"
#include "store/etcd/etcd_watches.h"
#include "store/etcd/lease_renewals.h"
#include "store/put_txn.h"

namespace gantry::store {

using etcd::Codec;
using etcd::FromGrpc;

namespace {
std::chrono::steady_clock::time_point Now() { return std::chrono::steady_clock::now(); }
}  // namespace

struct EtcdStore::Impl {
  Impl(boost::asio::io_context& io_in, EtcdStoreOptions options_in, const std::string& target)
      : io(io_in),
        options(std::move(options_in)),
        codec(options.key_prefix),
        tracker(io_in),
        channel(MakeChannel(options, target)),
        kv(etcdserverpb::KV::NewStub(channel)),
        watch(etcdserverpb::Watch::NewStub(channel)),
        lease(etcdserverpb::Lease::NewStub(channel)),
        watches(io_in, tracker, *watch, codec),
        keepalives(tracker, *lease) {}

  ~Impl() {
    *alive = false;
    tracker.Shutdown();  // before the streams' owners below go
  }

  static std::shared_ptr<::grpc::Channel> MakeChannel(const EtcdStoreOptions& options,
                                                      const std::string& target) {
    ::grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);  // a large range is the caller's choice
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
                static_cast<int>(options.max_reconnect_backoff.count()));
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetLoadBalancingPolicyName("pick_first");  // one member at a time, the next on failure
    // Dead connections found within seconds, not when the OS gives up.
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10'000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5'000);
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    return ::grpc::CreateCustomChannel(target, ::grpc::InsecureChannelCredentials(), args);
  }

  // Whether a failed call may be sent again: a read always (when it did not run out of time),
  // a write only when etcd cannot have applied it (etcd::SafeToRetryWrite).
  enum class Kind { kRead, kWrite };

  // One unary call: `start` passes the context, request, response and gRPC's callback to the
  // stub; `finish` turns the response into the Store's answer, on the loop. A call that fails
  // in a way that is safe to repeat (a member lost, an election under way) is sent again after
  // a pause, until `call_timeout` from the first attempt has passed.
  template <typename Request, typename Response, typename T, typename Start, typename Finish>
  void Call(Kind kind, Request request, Start start, Finish finish, Done<T> done) {
    Attempt<Request, Response, T>(
        kind, std::move(request), std::move(start), std::move(finish), std::move(done),
        std::chrono::steady_clock::now() + options.call_timeout, kFirstRetryPause);
  }

  template <typename Request, typename Response, typename T, typename Start, typename Finish>
  void Attempt(Kind kind, Request request, Start start, Finish finish, Done<T> done,
               std::chrono::steady_clock::time_point deadline, Duration pause) {
    struct State {
      ::grpc::ClientContext context;
      Request request;
      Response response;
    };
    auto state = std::make_shared<State>();
    state->request = std::move(request);
    state->context.set_deadline(std::chrono::system_clock::now() +
                                (deadline - std::chrono::steady_clock::now()));
    if (!tracker.Begin(&state->context, state)) {
      return done(absl::UnavailableError("etcd: the store is shutting down"));
    }
    start(&state->context, &state->request, &state->response,
          [this, kind, state, start, finish, done = std::move(done), deadline,
           pause](::grpc::Status status) mutable {
            // The state goes on to the loop (see CallTracker::End): nothing of the call is let
            // go on this thread but through End.
            ::grpc::ClientContext* context = &state->context;
            tracker.Post([this, kind, state = std::move(state), status, start = std::move(start),
                          finish = std::move(finish), done = std::move(done), deadline,
                          pause]() mutable {
              if (status.ok()) return done(finish(state->response));
              bool retry = status.error_code() == ::grpc::StatusCode::UNAVAILABLE &&
                           (kind == Kind::kRead || etcd::SafeToRetryWrite(status)) &&
                           std::chrono::steady_clock::now() + pause < deadline;
              if (!retry) return done(FromGrpc(status));
              auto timer = std::make_shared<boost::asio::steady_timer>(io, pause);
              timer->async_wait([this, alive = std::weak_ptr<bool>(alive), timer, kind,
                                 request = state->request, start = std::move(start),
                                 finish = std::move(finish), done = std::move(done), deadline,
                                 pause](boost::system::error_code error) mutable {
                if (error || alive.expired()) return;
                Attempt<Request, Response, T>(kind, std::move(request), std::move(start),
                                              std::move(finish), std::move(done), deadline,
                                              std::min(pause * 2, kMaxRetryPause));
              });
            });
            tracker.End(context);
          });
  }

  static constexpr Duration kFirstRetryPause = std::chrono::milliseconds(50);
  static constexpr Duration kMaxRetryPause = std::chrono::milliseconds(500);

  boost::asio::io_context& io;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);  // for retries waiting on a timer
  EtcdStoreOptions options;
  Codec codec;
  etcd::CallTracker tracker;
  std::shared_ptr<::grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease;
  etcd::Watches watches;
  etcd::KeepAlives keepalives;
  etcd::LeaseRenewals renewals;
};

absl::StatusOr<std::unique_ptr<EtcdStore>> EtcdStore::Open(boost::asio::io_context& io,
                                                           EtcdStoreOptions options) {
  GANTRY_ASSIGN_OR_RETURN(std::string target, etcd::ChannelTarget(options.endpoints));
  auto impl = std::make_unique<Impl>(io, std::move(options), target);
  auto deadline = std::chrono::system_clock::now() + impl->options.call_timeout;
  if (!impl->channel->WaitForConnected(deadline)) {
    return absl::UnavailableError(fmt::format("etcd at {} did not answer in {}",
                                              fmt::join(impl->options.endpoints, ","),
                                              FormatDuration(impl->options.call_timeout)));
  }
  return std::unique_ptr<EtcdStore>(new EtcdStore(std::move(impl)));
}

EtcdStore::EtcdStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EtcdStore::~EtcdStore() = default;

bool EtcdStore::Connected() const { return impl_->channel->GetState(false) == GRPC_CHANNEL_READY; }

void EtcdStore::Range(const KeyRange& range, Done<RangeResult> done) {
  etcdserverpb::RangeRequest request;
  impl_->codec.SetRange(range, request.mutable_key(), request.mutable_range_end());
  impl_->Call<etcdserverpb::RangeRequest, etcdserverpb::RangeResponse, RangeResult>(
      Impl::Kind::kRead, std::move(request),
      [this](auto* context, auto* request, auto* response, auto callback) {
        impl_->kv->async()->Range(context, request, response, std::move(callback));
      },
      [this](const etcdserverpb::RangeResponse& response) -> absl::StatusOr<RangeResult> {
        RangeResult result;
        result.revision = response.header().revision();
        result.kvs.reserve(response.kvs_size());
        for (const auto& kv : response.kvs()) result.kvs.push_back(impl_->codec.FromEtcd(kv));
        return result;
      },
      std::move(done));
}

void EtcdStore::Put(std::string key, std::string value, PutOptions options, Done<Revision> done) {
  if (auto status = CheckKeyValue(key, value); !status.ok()) return done(status);
  if (options.expect_mod_revision) {  // compare-and-set: a transaction
    return Txn(
        PutAsTxn(std::move(key), std::move(value), options),
        [done = std::move(done), expected = options.expect_mod_revision](
            absl::StatusOr<TxnResult> result) { done(PutTxnResult(std::move(result), expected)); });
  }
  etcdserverpb::PutRequest request;
  request.set_key(impl_->codec.EtcdKey(key));
  request.set_value(std::move(value));
  request.set_lease(options.lease);
  impl_->Call<etcdserverpb::PutRequest, etcdserverpb::PutResponse, Revision>(
      Impl::Kind::kWrite, std::move(request),
      [this](auto* context, auto* request, auto* response, auto callback) {
        impl_->kv->async()->Put(context, request, response, std::move(callback));
      },
      [](const etcdserverpb::PutResponse& response) -> absl::StatusOr<Revision> {
        return response.header().revision();
      },
      std::move(done));
}

void EtcdStore::Delete(KeyRange range, Done<DeleteResult> done) {
  if (range.key.empty() && !range.prefix) return done(absl::InvalidArgumentError("empty key"));
  etcdserverpb::DeleteRangeRequest request;
  impl_->codec.SetRange(range, request.mutable_key(), request.mutable_range_end());
  impl_->Call<etcdserverpb::DeleteRangeRequest, etcdserverpb::DeleteRangeResponse, DeleteResult>(
      Impl::Kind::kWrite, std::move(request),
      [this](auto* context, auto* request, auto* response, auto callback) {
        impl_->kv->async()->DeleteRange(context, request, response, std::move(callback));
      },
      [](const etcdserverpb::DeleteRangeResponse& response) -> absl::StatusOr<DeleteResult> {
        return DeleteResult{response.deleted(), response.header().revision()};
      },
      std::move(done));
}

void EtcdStore::Txn(TxnRequest request, Done<TxnResult> done) {
  for (const auto& ops : {&request.success, &request.failure}) {
    for (const TxnOp& op : *ops) {
      if (op.type != TxnOp::Type::kPut) continue;
      if (auto status = CheckKeyValue(op.range.key, op.value); !status.ok()) return done(status);
    }
  }
  impl_->Call<etcdserverpb::TxnRequest, etcdserverpb::TxnResponse, TxnResult>(
      Impl::Kind::kWrite, impl_->codec.ToEtcd(request),
      [this](auto* context, auto* request, auto* response, auto callback) {
        impl_->kv->async()->Txn(context, request, response, std::move(callback));
      },
      [this](const etcdserverpb::TxnResponse& response) -> absl::StatusOr<TxnResult> {
        TxnResult result;
        result.succeeded = response.succeeded();
        result.revision = response.header().revision();
        for (const auto& op : response.responses())
          result.results.push_back(impl_->codec.FromEtcd(op));
        return result;
      },
      std::move(done));
}

void EtcdStore::GrantLease(Duration ttl, Done<LeaseGrant> done) {
  if (auto status = CheckTtl(ttl); !status.ok()) return done(status);
  etcdserverpb::LeaseGrantRequest request;
  // etcd counts whole seconds: round up, so a lease never ends before it was asked to.
  request.set_ttl((ttl.count() + 999) / 1000);
  impl_->Call<etcdserverpb::LeaseGrantRequest, etcdserverpb::LeaseGrantResponse, LeaseGrant>(
      Impl::Kind::kWrite, std::move(request),
      [this](auto* context, auto* request, auto* response, auto callback) {
        impl_->lease->async()->LeaseGrant(context, request, response, std::move(callback));
      },
      [](const etcdserverpb::LeaseGrantResponse& response) -> absl::StatusOr<LeaseGrant> {
        if (!response.error().empty()) {
          return absl::UnavailableError(fmt::format("etcd: {}", response.error()));
        }
        return LeaseGrant{response.id(), std::chrono::seconds(response.ttl())};
      },
      [this, done = std::move(done)](absl::StatusOr<LeaseGrant> granted) {
        if (granted.ok()) impl_->renewals.Renewed(granted->id, granted->ttl, Now());
        done(std::move(granted));
      });
}

// A renewal's answer is believed as it is unless it could be one of etcd 3.4's wrong ones
// (LeaseRenewals): then LeaseTimeToLive, read after it, says whether the lease is there. A
// "not found" is confirmed the same way before the caller takes the lease for lost.
void EtcdStore::KeepAlive(LeaseId id, Done<LeaseGrant> done) {
  impl_->keepalives.Renew(id, [this, id, alive = std::weak_ptr<bool>(impl_->alive),
                               done = std::move(done)](absl::StatusOr<LeaseGrant> renewed) mutable {
    bool lost = absl::IsNotFound(renewed.status());
    if (alive.expired() || !*alive.lock() || (!renewed.ok() && !lost)) return done(renewed);
    if (renewed.ok() && !impl_->renewals.NeedsConfirming(id, Now())) {
      impl_->renewals.Renewed(id, renewed->ttl, Now());
      return done(renewed);
    }
    TimeToLive(id, [this, id, renewed = std::move(renewed),
                    done = std::move(done)](absl::StatusOr<Duration> left) mutable {
      if (absl::IsNotFound(left.status())) {
        impl_->renewals.Forget(id);
        if (renewed.ok()) {
          return done(absl::NotFoundError(
              fmt::format("lease {:x} ran out: etcd renewed it while it was revoking it", id)));
        }
        return done(std::move(renewed));
      }
      if (!left.ok()) return done(left.status());  // neither answer can be told yet
      if (!renewed.ok()) {
        return done(absl::UnavailableError(fmt::format(
            "etcd: the renewal of lease {:x} said 'not found', but etcd still holds it", id)));
      }
      impl_->renewals.Renewed(id, renewed->ttl, Now());
      done(std::move(renewed));
    });
  });
}

void EtcdStore::RevokeLease(LeaseId id, Done<Revision> done) {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(id);
  impl_->Call<etcdserverpb::LeaseRevokeRequest, etcdserverpb::LeaseRevokeResponse, Revision>(
      Impl::Kind::kWrite, std::move(request),
      [this](auto* context, auto* request, auto* response, auto callback) {
        impl_->lease->async()->LeaseRevoke(context, request, response, std::move(callback));
      },
      [](const etcdserverpb::LeaseRevokeResponse& response) -> absl::StatusOr<Revision> {
        return response.header().revision();
      },
      [this, id, done = std::move(done)](absl::StatusOr<Revision> revoked) {
        if (revoked.ok()) impl_->renewals.Forget(id);
        done(std::move(revoked));
      });
}

void EtcdStore::TimeToLive(LeaseId id, Done<Duration> done) {
  etcdserverpb::LeaseTimeToLiveRequest request;
  request.set_id(id);
  impl_
      ->Call<etcdserverpb::LeaseTimeToLiveRequest, etcdserverpb::LeaseTimeToLiveResponse, Duration>(
          Impl::Kind::kRead, std::move(request),
          [this](auto* context, auto* request, auto* response, auto callback) {
            impl_->lease->async()->LeaseTimeToLive(context, request, response, std::move(callback));
          },
          [id](const etcdserverpb::LeaseTimeToLiveResponse& response) -> absl::StatusOr<Duration> {
            if (response.ttl() < 0)
              return absl::NotFoundError(fmt::format("lease {:x} not found", id));
            return std::chrono::seconds(response.ttl());
          },
          std::move(done));
}

WatchId EtcdStore::Watch(KeyRange range, Revision from, WatchCallback callback) {
  return impl_->watches.Add(std::move(range), from, std::move(callback));
}

void EtcdStore::CancelWatch(WatchId id) { impl_->watches.Cancel(id); }

void EtcdStore::Compact(Revision revision, Done<Revision> done) {
  etcdserverpb::CompactionRequest request;
  request.set_revision(revision);
  impl_->Call<etcdserverpb::CompactionRequest, etcdserverpb::CompactionResponse, Revision>(
      Impl::Kind::kWrite, std::move(request),
      [this](auto* context, auto* request, auto* response, auto callback) {
        impl_->kv->async()->Compact(context, request, response, std::move(callback));
      },
      [revision](const etcdserverpb::CompactionResponse&) -> absl::StatusOr<Revision> {
        return revision;
      },
      std::move(done));
}

}  // namespace gantry::store
