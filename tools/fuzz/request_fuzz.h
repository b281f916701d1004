#ifndef CRM_TOOLS_FUZZ_REQUEST_FUZZ_H_
#define CRM_TOOLS_FUZZ_REQUEST_FUZZ_H_

// What the request fuzz targets share: each builds a service with its real
// command handler, RocksDB stores and projections, and sends it requests as
// a client could (after gRPC decoded the bytes): the first byte of an input
// picks the RPC, the rest is its request, and the call runs the whole path
// from the token and role check through validation and the domain rules to
// the store. Every request must end in an answer, never a crash.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "google/protobuf/stubs/logging.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/test/server_context_test_spouse.h"
#include "libs/rpc/access.h"
#include "libs/rpc/rpc.h"
#include "libs/testing/auth.h"

namespace crm::fuzz {

// One RPC of a service: decodes its request from bytes and calls it.
using Rpc = std::function<void(const std::string& bytes)>;

// The RPCs of `impl` (a service whose methods are "/<service>/<Method>"),
// called with a token of every role a tenant's people hold.
template <typename Impl>
class Rpcs {
 public:
  Rpcs(Impl* impl, std::string service) : impl_(impl), service_(std::move(service)) {
    test::InstallTestVerifier();
  }

  template <typename Req, typename Resp>
  void Add(const std::string& method,
           grpc::Status (Impl::*handler)(grpc::ServerContext*, const Req*, Resp*)) {
    rpcs_.push_back([this, method, handler](const std::string& bytes) {
      Req req;
      if (!req.ParseFromString(bytes)) return;  // gRPC refuses these before any handler
      grpc::ServerContext ctx;
      grpc::testing::ServerContextTestSpouse spouse(&ctx);
      spouse.AddClientMetadata(rpc::kAuthorizationMetadata, "Bearer " + token_);
      spouse.AddClientMetadata(rpc::kMethodMetadata, "/" + service_ + "/" + method);
      Resp resp;
      (void)(impl_->*handler)(&ctx, &req, &resp);
    });
  }

  // An input that is not a request (events for the read models queried).
  void AddRaw(Rpc rpc) { rpcs_.push_back(std::move(rpc)); }

  // Runs one fuzz input.
  void Run(const uint8_t* data, size_t size) {
    if (size == 0 || rpcs_.empty()) return;
    rpcs_[data[0] % rpcs_.size()](std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  }

 private:
  Impl* impl_;
  std::string service_;
  std::string token_ =
      test::TestToken("rep-1", "fuzz", "rep,manager,admin,team-lead,director,legal");
  std::vector<Rpc> rpcs_;
};

// Protobuf logs every string with invalid UTF-8 it refuses; that is the
// expected answer here, not news.
inline void QuietProtobuf() { google::protobuf::SetLogHandler(nullptr); }

}  // namespace crm::fuzz

// The libFuzzer entry points of a target whose `Target` (built once) holds
// its service and `rpcs`.
#define CRM_REQUEST_FUZZ_TARGET(Target)                                     \
  extern "C" int LLVMFuzzerInitialize(int*, char***) {                      \
    crm::fuzz::QuietProtobuf();                                             \
    return 0;                                                               \
  }                                                                         \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { \
    static Target* target = new Target();                                   \
    target->rpcs.Run(data, size);                                           \
    return 0;                                                               \
  }

namespace crm::fuzz {

// A match secret for the fuzz targets' key stores.
inline constexpr char kMatchSecret[] = "fuzz-match-secret-of-at-least-32-bytes";

}  // namespace crm::fuzz

#endif  // CRM_TOOLS_FUZZ_REQUEST_FUZZ_H_
