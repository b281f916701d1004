// libFuzzer target: requests to the customer service's handlers, as a
// client could send them (after gRPC decoded the bytes), through the whole
// path: token and role check, validation, the domain rules and appends to a
// real RocksDB event store. The first byte picks the RPC, the rest is its
// request. Every request must end in an answer, never a crash.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/stubs/logging.h"
#include "grpcpp/test/server_context_test_spouse.h"
#include "libs/clock/clock.h"
#include "libs/rpc/access.h"
#include "libs/testing/auth.h"
#include "services/customer/app/customer_commands.h"
#include "services/customer/rpc/customer_service.h"
#include "tools/fuzz/fuzz_dir.h"

namespace {

namespace v1 = crm::customer::v1;

struct Service {
  std::string dir = crm::fuzz::Dir("customer-request");
  std::unique_ptr<crm::eventstore::EventStore> store =
      *crm::eventstore::EventStore::Open({.path = dir + "/events"});
  std::unique_ptr<crm::readstore::ReadStore> read = *crm::readstore::ReadStore::Open(dir + "/read");
  crm::customer::CustomerCommandHandler commands{store.get(), crm::SystemClock(),
                                                 crm::customer::Policy{}};
  std::unique_ptr<crm::customer::CustomerServiceImpl> service;
  std::string token = crm::test::TestToken("rep-1", "fuzz", "rep,manager,admin");
  Service() {
    crm::test::InstallTestVerifier();
    commands.SetMatchLookup(
        [](const std::string&, const std::vector<std::string>&, const std::string&) {
          return absl::StatusOr<std::vector<crm::customer::ev::ConflictMatch>>();
        });
    service = std::make_unique<crm::customer::CustomerServiceImpl>(&commands, read.get());
  }
};

// Parses `bytes` as Req and calls `handler` with a context carrying the
// token and the method, as the server would.
template <typename Req, typename Resp>
void Call(Service& s, const std::string& method, const std::string& bytes,
          grpc::Status (crm::customer::CustomerServiceImpl::*handler)(grpc::ServerContext*,
                                                                      const Req*, Resp*)) {
  Req req;
  if (!req.ParseFromString(bytes)) return;  // gRPC refuses these before any handler
  grpc::ServerContext ctx;
  grpc::testing::ServerContextTestSpouse spouse(&ctx);
  spouse.AddClientMetadata(crm::rpc::kAuthorizationMetadata, "Bearer " + s.token);
  spouse.AddClientMetadata(crm::rpc::kMethodMetadata, "/crm.customer.v1.CustomerService/" + method);
  Resp resp;
  (void)((*s.service).*handler)(&ctx, &req, &resp);
}

}  // namespace

// Protobuf logs every string with invalid UTF-8 it refuses; that is the
// expected answer here, not news.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Service* s = new Service();
  if (size == 0) return 0;
  using S = crm::customer::CustomerServiceImpl;
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 12) {
    case 0:
      Call(*s, "CreateCustomer", bytes, &S::CreateCustomer);
      break;
    case 1:
      Call(*s, "UpdateCustomer", bytes, &S::UpdateCustomer);
      break;
    case 2:
      Call(*s, "ClaimCustomer", bytes, &S::ClaimCustomer);
      break;
    case 3:
      Call(*s, "ReleaseCustomer", bytes, &S::ReleaseCustomer);
      break;
    case 4:
      Call(*s, "RecordTouch", bytes, &S::RecordTouch);
      break;
    case 5:
      Call(*s, "RecordAnnualSales", bytes, &S::RecordAnnualSales);
      break;
    case 6:
      Call(*s, "FileConflict", bytes, &S::FileConflict);
      break;
    case 7:
      Call(*s, "CreateSegment", bytes, &S::CreateSegment);
      break;
    case 8:
      Call(*s, "ListCustomers", bytes, &S::ListCustomers);
      break;
    case 9:
      Call(*s, "GetCustomer", bytes, &S::GetCustomer);
      break;
    case 10:
      Call(*s, "UpdateTenantPolicy", bytes, &S::UpdateTenantPolicy);
      break;
    case 11:
      Call(*s, "ReserveCustomer", bytes, &S::ReserveCustomer);
      break;
  }
  return 0;
}
