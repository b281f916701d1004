// Mutual TLS between clients and services and between services, with
// certificates made by openssl for this test: a lead converts into a
// customer over an mTLS call from the lead service to the customer service;
// plaintext clients, clients without a certificate and clients trusting
// another CA are refused; Kubernetes-style plaintext health still answers.

#include <cstdlib>
#include <fstream>
#include <future>

#include "absl/strings/str_cat.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "crm/lead/v1/lead_service.grpc.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "tests/platform.h"

namespace crm::test {
namespace {

namespace lv1 = crm::lead::v1;
namespace cv1 = crm::customer::v1;

// openssl, quietly; true on success.
bool Openssl(const std::string& args) {
  return std::system(("openssl " + args + " > /dev/null 2>&1").c_str()) == 0;
}

// A CA under `dir`/`name`-ca.pem and, signed by it, `name`.pem / -key.pem
// for 127.0.0.1 (server and client use).
bool MakeCertificates(const std::string& dir, const std::string& name) {
  const std::string ca = dir + "/" + name + "-ca";
  const std::string leaf = dir + "/" + name;
  std::ofstream(dir + "/" + name + ".ext") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                           << "extendedKeyUsage=serverAuth,clientAuth\n";
  return Openssl("req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=" + name + "-ca -keyout " +
                 ca + "-key.pem -out " + ca + ".pem") &&
         Openssl("req -newkey rsa:2048 -nodes -subj /CN=" + name + " -keyout " + leaf +
                 "-key.pem -out " + leaf + ".csr") &&
         Openssl("x509 -req -days 2 -in " + leaf + ".csr -CA " + ca + ".pem -CAkey " + ca +
                 "-key.pem -CAcreateserial -extfile " + leaf + ".ext -out " + leaf + ".pem");
}

std::shared_ptr<grpc::Channel> TlsChannel(const std::string& address, const std::string& ca,
                                          const std::string& cert, const std::string& key) {
  auto creds = rpc::ChannelCredentialsFrom(ca, cert, key);
  EXPECT_TRUE(creds.ok()) << creds.status();
  return grpc::CreateChannel(address, *creds);
}

TEST(TlsE2eTest, ClientsAndServicesTalkMutualTlsAndNothingElse) {
  Platform p;
  const std::string d = p.dir();
  ASSERT_TRUE(MakeCertificates(d, "platform")) << "openssl failed: run tools/install-deps";
  ASSERT_TRUE(MakeCertificates(d, "other"));
  const std::string ca = d + "/platform-ca.pem", cert = d + "/platform.pem",
                    key = d + "/platform-key.pem";
  const std::vector<std::string> serve = {"--tls-cert=" + cert, "--tls-key=" + key,
                                          "--tls-client-ca=" + ca};
  p.StartBroker();
  p.Start("customer", CRM_CUSTOMER_BIN, serve);
  std::vector<std::string> lead_flags = serve;
  for (const std::string& f : std::vector<std::string>{
           "--customer-endpoint=" + p.Address("customer"), "--opportunity-endpoint=127.0.0.1:1",
           "--tls-ca=" + ca, "--tls-client-cert=" + cert, "--tls-client-key=" + key}) {
    lead_flags.push_back(f);
  }
  p.Start("lead", CRM_LEAD_BIN, lead_flags);

  auto leads = lv1::LeadService::NewStub(TlsChannel(p.Address("lead"), ca, cert, key));
  {
    grpc::Status s = CreateChannel(*leads, "web");
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  lv1::Lead lead;
  {
    lv1::CreateLeadRequest req;
    req.set_request_id("l1");
    req.mutable_lead()->set_channel_id("web");
    req.mutable_lead()->set_company_name("Secure GmbH");
    grpc::ClientContext ctx;
    As(ctx, "rep-1");
    ASSERT_TRUE(leads->CreateLead(&ctx, req, &lead).ok());
  }
  {
    lv1::ClaimLeadRequest req;
    req.set_request_id("claim");
    req.set_name(lead.name());
    grpc::ClientContext ctx;
    As(ctx, "rep-1");
    ASSERT_TRUE(leads->ClaimLead(&ctx, req, &lead).ok());
  }
  {
    // The lead service calls the customer service over mutual TLS.
    lv1::ConvertLeadRequest req;
    req.set_request_id("convert");
    req.set_name(lead.name());
    grpc::ClientContext ctx;
    As(ctx, "rep-1");
    grpc::Status s = leads->ConvertLead(&ctx, req, &lead);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_FALSE(lead.customer_id().empty());
  }
  auto get = [&](const std::shared_ptr<grpc::Channel>& channel) {
    cv1::GetCustomerRequest req;
    req.set_name("customers/" + lead.customer_id());
    cv1::Customer out;
    grpc::ClientContext ctx;
    Authorize(ctx, "rep-1");
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::Status status = cv1::CustomerService::NewStub(channel)->GetCustomer(&ctx, req, &out);
    return std::make_pair(status, out.company_name());
  };
  auto [ok, company] = get(TlsChannel(p.Address("customer"), ca, cert, key));
  EXPECT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_EQ(company, "Secure GmbH");

  // Plaintext, no client certificate, or a client of another CA: refused.
  EXPECT_EQ(get(p.Channel("customer")).first.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(get(TlsChannel(p.Address("customer"), ca, "", "")).first.error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(get(TlsChannel(p.Address("customer"), ca, d + "/other.pem", d + "/other-key.pem"))
                .first.error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // A client trusting another CA does not accept the service.
  EXPECT_EQ(
      get(TlsChannel(p.Address("customer"), d + "/other-ca.pem", cert, key)).first.error_code(),
      grpc::StatusCode::UNAVAILABLE);

  // Health answers in plaintext on its own port, for Kubernetes' probes.
  const std::string ports = ReadFile(d + "/customer.ports");
  const size_t at = ports.find("health=");
  ASSERT_NE(at, std::string::npos) << ports;
  auto health = grpc::CreateChannel(absl::StrCat("127.0.0.1:", std::atoi(ports.c_str() + at + 7)),
                                    grpc::InsecureChannelCredentials());
  EXPECT_TRUE(RawCall(health, "/grpc.health.v1.Health/Check", "").ok());
}

}  // namespace
}  // namespace crm::test
