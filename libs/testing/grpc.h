#ifndef CRM_LIBS_TESTING_GRPC_H_
#define CRM_LIBS_TESTING_GRPC_H_

// In-process gRPC for service tests: a real server on a free loopback port
// and a channel to it, verifying test tokens.

#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "libs/rpc/access.h"
#include "libs/testing/auth.h"

namespace crm::test {

// Starts `service` on 127.0.0.1 at a port the kernel picks; sets `port`.
// The process verifies test tokens (libs/testing/auth.h).
inline std::unique_ptr<grpc::Server> Serve(grpc::Service* service, int* port) {
  InstallTestVerifier();
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), port);
  builder.RegisterService(service);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> recorder;
  recorder.push_back(rpc::MethodRecorder());
  builder.experimental().SetInterceptorCreators(std::move(recorder));
  return builder.BuildAndStart();
}

inline std::shared_ptr<grpc::Channel> ChannelTo(int port) {
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
}

}  // namespace crm::test

#endif  // CRM_LIBS_TESTING_GRPC_H_
