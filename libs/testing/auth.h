#ifndef CRM_LIBS_TESTING_AUTH_H_
#define CRM_LIBS_TESTING_AUTH_H_

// Bearer tokens for tests: one HS256 secret that in-process servers (via
// Serve) and spawned services (via TestKeyFile's flag) verify, and clients
// that present tokens signed with it.

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "libs/auth/jwt.h"
#include "libs/rpc/rpc.h"

namespace crm::test {

inline constexpr char kTestSecret[] = "crm-test-secret-0123456789abcdef0123456789";

inline std::shared_ptr<const auth::Key> TestKey() {
  static const auto* key =
      new std::shared_ptr<const auth::Key>(*auth::Key::FromMaterial(kTestSecret));
  return *key;
}

// This process's servers verify tokens signed with the test secret.
inline void InstallTestVerifier() {
  auth::Verifier::Options options;
  options.keys = {TestKey()};
  rpc::InstallVerifier(std::make_shared<const auth::Verifier>(std::move(options)));
}

// A token for `user` of `tenant` with comma-separated `roles`, valid 1 hour.
inline std::string TestToken(const std::string& user, const std::string& tenant = "acme",
                             const std::string& roles = "",
                             const std::vector<std::string>& teams = {}) {
  auth::Identity id;
  id.tenant = tenant;
  id.user = user;
  for (absl::string_view role : absl::StrSplit(roles, ',', absl::SkipWhitespace())) {
    id.roles.insert(std::string(absl::StripAsciiWhitespace(role)));
  }
  id.teams = teams;
  return auth::Signer::Create(TestKey())->Mint(id, absl::Now(), absl::Hours(1));
}

// Sends a test token for `user` of `tenant` with `roles` on `ctx`.
inline void Authorize(grpc::ClientContext& ctx, const std::string& user,
                      const std::string& tenant = "acme", const std::string& roles = "") {
  rpc::SetBearer(ctx, TestToken(user, tenant, roles));
}

// A service's tokens signed with the test secret.
inline rpc::ServiceTokens TestServiceTokens(const std::string& service) {
  return rpc::ServiceTokens(service, *auth::Signer::Create(TestKey()));
}

// Writes the test secret under `dir`; the flag a spawned service verifies with.
inline std::string TestKeyFlag(const std::string& dir) {
  const std::string path = dir + "/test-hs256.key";
  std::ofstream(path) << kTestSecret << "\n";
  return "--auth-keys=" + path;
}

// The secret personal-data match tags derive from, for tests.
inline constexpr char kTestMatchSecret[] = "test-match-secret-of-at-least-32-bytes";

// A --pii-match-key flag for a service process, its secret written in `dir`.
inline std::string TestMatchKeyFlag(const std::string& dir) {
  const std::string path = dir + "/test-match.key";
  std::ofstream(path) << kTestMatchSecret << "\n";
  return "--pii-match-key=" + path;
}

}  // namespace crm::test

#endif  // CRM_LIBS_TESTING_AUTH_H_
