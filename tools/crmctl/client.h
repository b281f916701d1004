#ifndef CRM_TOOLS_CRMCTL_CLIENT_H_
#define CRM_TOOLS_CRMCTL_CLIENT_H_

// What every crmctl command stands on: the parsed command line, the stubs
// of the five services with the caller's credentials, and turning a gRPC
// error into a message and an exit code.

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "crm/analytics/v1/analytics_service.grpc.pb.h"
#include "crm/contract/v1/contract_service.grpc.pb.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "crm/lead/v1/lead_service.grpc.pb.h"
#include "crm/opportunity/v1/opportunity_service.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "libs/auth/jwt.h"
#include "libs/rpc/rpc.h"
#include "libs/status/status.h"

namespace crm::crmctl {

struct Args {
  std::map<std::string, std::string> flags;
  std::vector<std::string> words;
  std::string Flag(const std::string& name, const std::string& env, const std::string& def) const {
    if (auto it = flags.find(name); it != flags.end()) return it->second;
    if (const char* v = env.empty() ? nullptr : std::getenv(env.c_str())) return v;
    return def;
  }
  bool Has(const std::string& name) const { return flags.count(name) > 0; }
};

inline int ExitCode(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return 0;
    case grpc::StatusCode::INVALID_ARGUMENT:
      return 3;
    case grpc::StatusCode::NOT_FOUND:
      return 4;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 5;
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ABORTED:
      return 6;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return 7;
    default:
      return 1;
  }
}

inline int Fail(const grpc::Status& s) {
  absl::Status st = crm::rpc::FromGrpcStatus(s);
  std::cerr << "error: " << absl::StatusCodeToString(st.code()) << ": " << st.message() << "\n";
  const google::rpc::BadRequest bad_request = crm::BadRequestOf(st);
  for (const auto& v : bad_request.field_violations()) {
    std::cerr << "  field " << v.field() << ": " << v.description() << "\n";
  }
  if (std::string reason = crm::ErrorReason(st); !reason.empty()) {
    std::cerr << "  reason " << reason << "\n";
  }
  return ExitCode(s.error_code());
}

// TLS when --tls-ca (CRM_TLS_CA) names the CA that signed the services'
// certificates; --tls-client-cert/--tls-client-key for mutual TLS. Exits
// with 2 on unreadable files.
inline std::shared_ptr<grpc::ChannelCredentials> Credentials(const Args& a) {
  auto creds = crm::rpc::ChannelCredentialsFrom(
      a.Flag("tls-ca", "CRM_TLS_CA", ""), a.Flag("tls-client-cert", "CRM_TLS_CLIENT_CERT", ""),
      a.Flag("tls-client-key", "CRM_TLS_CLIENT_KEY", ""));
  if (!creds.ok()) {
    std::cerr << "error: " << creds.status().message() << "\n";
    std::exit(2);
  }
  return *creds;
}

class Client {
 public:
  explicit Client(const Args& a)
      : credentials_(Credentials(a)),
        tenant_(a.Flag("tenant", "CRM_TENANT", "demo")),
        user_(a.Flag("user", "CRM_USER", "cli")),
        roles_(a.Flag("roles", "CRM_ROLES", "")),
        team_(a.Flag("team", "CRM_TEAM", "")),
        token_(a.Flag("token", "CRM_TOKEN", "")),
        json_(a.Has("json")),
        lead_(crm::lead::v1::LeadService::NewStub(
            grpc::CreateChannel(a.Flag("lead", "CRM_LEAD_ADDR", "127.0.0.1:50051"), credentials_))),
        customer_(crm::customer::v1::CustomerService::NewStub(grpc::CreateChannel(
            a.Flag("customer", "CRM_CUSTOMER_ADDR", "127.0.0.1:50052"), credentials_))),
        opportunity_(crm::opportunity::v1::OpportunityService::NewStub(grpc::CreateChannel(
            a.Flag("opportunity", "CRM_OPPORTUNITY_ADDR", "127.0.0.1:50053"), credentials_))),
        contract_(crm::contract::v1::ContractService::NewStub(grpc::CreateChannel(
            a.Flag("contract", "CRM_CONTRACT_ADDR", "127.0.0.1:50054"), credentials_))),
        analytics_(crm::analytics::v1::AnalyticsService::NewStub(grpc::CreateChannel(
            a.Flag("analytics", "CRM_ANALYTICS_ADDR", "127.0.0.1:50055"), credentials_))) {}

  // Loads the key tokens are minted with, unless --token was given. Prints
  // why and returns false when there are no credentials.
  bool LoadCredentials(const Args& a) {
    if (!token_.empty()) return true;
    const char* local = std::getenv("CRM_LOCAL_DIR");
    const std::string path =
        a.Flag("key-file", "CRM_AUTH_KEY_FILE",
               std::string(local != nullptr && *local != 0 ? local : ".local") + "/auth/hs256.key");
    auto key = crm::auth::Key::FromFile(path);
    if (!key.ok() || !(*key)->can_sign()) {
      std::cerr << "error: no credentials: pass --token=JWT (CRM_TOKEN), or --key-file=F "
                   "(CRM_AUTH_KEY_FILE) holding a key to mint one ("
                << (key.ok() ? "a public key cannot sign" : key.status().message()) << ")\n";
      return false;
    }
    signer_.emplace(*crm::auth::Signer::Create(*key));
    return true;
  }

  // A token for the tenant, the user (`as_user`, or --user), roles (`roles`,
  // or --roles) and --team, valid `ttl`; --token as given when set.
  std::string Token(const std::string& as_user = "", const std::string& roles = "",
                    absl::Duration ttl = absl::Minutes(10)) const {
    if (!signer_) return token_;
    crm::auth::Identity id;
    id.tenant = tenant_;
    id.user = as_user.empty() ? user_ : as_user;
    for (absl::string_view r :
         absl::StrSplit(roles.empty() ? roles_ : roles, ',', absl::SkipWhitespace())) {
      id.roles.insert(std::string(absl::StripAsciiWhitespace(r)));
    }
    if (!team_.empty()) id.teams = absl::StrSplit(team_, ',', absl::SkipWhitespace());
    return signer_->Mint(id, absl::Now(), ttl);
  }

  // Sends the bearer token for the call (see Token) with a deadline.
  void Prepare(grpc::ClientContext& ctx, const std::string& as_user = "",
               const std::string& roles = "") const {
    crm::rpc::SetBearer(ctx, Token(as_user, roles));
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  }
  void Print(const google::protobuf::Message& m) const {
    std::string out;
    google::protobuf::util::JsonPrintOptions opts;
    opts.add_whitespace = true;
    opts.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(m, &out, opts);
    std::cout << out;
  }
  bool json() const { return json_; }
  crm::lead::v1::LeadService::Stub& lead() { return *lead_; }
  crm::customer::v1::CustomerService::Stub& customer() { return *customer_; }
  crm::analytics::v1::AnalyticsService::Stub& analytics() { return *analytics_; }
  crm::opportunity::v1::OpportunityService::Stub& opportunity() { return *opportunity_; }
  crm::contract::v1::ContractService::Stub& contract() { return *contract_; }

 private:
  std::shared_ptr<grpc::ChannelCredentials> credentials_;
  std::string tenant_, user_, roles_, team_, token_;
  std::optional<crm::auth::Signer> signer_;
  bool json_;
  std::unique_ptr<crm::lead::v1::LeadService::Stub> lead_;
  std::unique_ptr<crm::customer::v1::CustomerService::Stub> customer_;
  std::unique_ptr<crm::opportunity::v1::OpportunityService::Stub> opportunity_;
  std::unique_ptr<crm::contract::v1::ContractService::Stub> contract_;
  std::unique_ptr<crm::analytics::v1::AnalyticsService::Stub> analytics_;
};

inline std::string RandomRequestId() {
  std::random_device rd;
  return absl::StrFormat("cli-%08x%08x", rd(), rd());
}

// Defines (or replaces) one team in the tenant's lead settings: members in
// round-robin order and the managers who see their customers in full.
inline grpc::Status SetTeam(Client& c, const std::string& team_id,
                            const std::vector<std::string>& members,
                            const std::vector<std::string>& managers, const std::string& rid) {
  crm::lead::v1::LeadSettings current;
  {
    grpc::ClientContext ctx;
    c.Prepare(ctx, "", "admin");
    grpc::Status s = c.lead().GetLeadSettings(&ctx, {}, &current);
    if (!s.ok()) return s;
  }
  crm::lead::v1::UpdateLeadSettingsRequest req;
  req.set_request_id(rid);
  req.mutable_update_mask()->add_paths("teams");
  crm::lead::events::v1::Team team;
  team.set_team_id(team_id);
  for (const auto& m : members) team.add_members()->set_rep_id(m);
  for (const auto& m : managers) team.add_manager_ids(m);
  bool replaced = false;
  for (const auto& t : current.settings().teams()) {
    const bool same = t.team_id() == team_id;
    *req.mutable_settings()->add_teams() = same ? team : t;
    replaced |= same;
  }
  if (!replaced) *req.mutable_settings()->add_teams() = team;
  grpc::ClientContext ctx;
  c.Prepare(ctx, "", "admin");
  crm::lead::v1::LeadSettings out;
  return c.lead().UpdateLeadSettings(&ctx, req, &out);
}

}  // namespace crm::crmctl

#endif  // CRM_TOOLS_CRMCTL_CLIENT_H_
