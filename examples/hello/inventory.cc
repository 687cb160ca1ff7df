// examples/hello: inventory, a gRPC service on grpc++ (shop.Inventory, see inventory.proto).
// Listens on 127.0.0.1:$PORT with the standard grpc.health.v1 service, which gantry's
// `health: { grpc: true }` checks. Stock counts are made up from the SKU, so every replica
// answers the same; `replica` says which one did.
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <csignal>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>
#include <thread>

#include "inventory.grpc.pb.h"

namespace {

std::string Env(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value ? value : fallback;
}

int StockOf(const std::string& sku) {
  return static_cast<int>(std::hash<std::string>{}(sku) % 100);
}

class InventoryService final : public shop::Inventory::Service {
 public:
  explicit InventoryService(std::string replica) : replica_(std::move(replica)) {}

  grpc::Status Get(grpc::ServerContext*, const shop::Item* item, shop::Stock* stock) override {
    if (item->sku().empty()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "sku is required");
    }
    Fill(item->sku(), StockOf(item->sku()), *stock);
    return grpc::Status::OK;
  }

  grpc::Status Watch(grpc::ServerContext* context, const shop::Item* item,
                     grpc::ServerWriter<shop::Stock>* writer) override {
    int count = StockOf(item->sku());
    for (int i = 0; i < 5 && !context->IsCancelled(); ++i) {
      shop::Stock stock;
      Fill(item->sku(), count - i, stock);
      if (!writer->Write(stock)) break;
    }
    return grpc::Status::OK;
  }

 private:
  void Fill(const std::string& sku, int count, shop::Stock& stock) const {
    stock.set_sku(sku);
    stock.set_count(count);
    stock.set_replica(replica_);
  }

  std::string replica_;
};

}  // namespace

int main() {
  std::string address = "127.0.0.1:" + Env("PORT", "50051");
  InventoryService service(Env("GANTRY_INSTANCE", "inventory"));
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) {
    std::cerr << "inventory: cannot listen on " << address << "\n";
    return 1;
  }
  std::cout << "inventory: serving on " << address << std::endl;
  // SIGTERM (gantry's stop) ends the server cleanly: calls under way finish first.
  static std::atomic<bool> stop{false};
  std::signal(SIGTERM, [](int) { stop = true; });
  while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return 0;
}
