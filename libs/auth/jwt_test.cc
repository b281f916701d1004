#include "libs/auth/jwt.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace crm::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);
constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";

// A fresh RSA key pair as PEM: {private, public}.
std::pair<std::string, std::string> RsaPair(int bits = 2048) {
  EVP_PKEY* pkey = EVP_RSA_gen(bits);
  auto pem = [](auto write) {
    BIO* bio = BIO_new(BIO_s_mem());
    write(bio);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string out(data, n);
    BIO_free(bio);
    return out;
  };
  std::string priv = pem(
      [&](BIO* b) { PEM_write_bio_PrivateKey(b, pkey, nullptr, nullptr, 0, nullptr, nullptr); });
  std::string pub = pem([&](BIO* b) { PEM_write_bio_PUBKEY(b, pkey); });
  EVP_PKEY_free(pkey);
  return {priv, pub};
}

Identity Rep() {
  Identity id;
  id.tenant = "acme";
  id.user = "rep-1";
  id.roles = {"rep"};
  id.teams = {"north"};
  return id;
}

std::shared_ptr<const Key> MustKey(absl::string_view material) {
  auto key = Key::FromMaterial(material);
  EXPECT_TRUE(key.ok()) << key.status();
  return *key;
}

TEST(Jwt, Hs256RoundTripCarriesEveryClaim) {
  auto key = MustKey(kSecret);
  auto signer = Signer::Create(key);
  ASSERT_TRUE(signer.ok());
  Verifier verifier({.keys = {key}});
  auto id = verifier.Verify(signer->Mint(Rep(), kNow, absl::Minutes(5)), kNow);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->tenant, "acme");
  EXPECT_EQ(id->user, "rep-1");
  EXPECT_THAT(id->roles, ElementsAre("rep"));
  EXPECT_THAT(id->teams, ElementsAre("north"));
  EXPECT_EQ(id->expires, kNow + absl::Minutes(5));
}

TEST(Jwt, Rs256VerifiesWithThePublicKeyOnly) {
  auto [priv, pub] = RsaPair();
  auto signer = Signer::Create(MustKey(priv));
  ASSERT_TRUE(signer.ok());
  EXPECT_FALSE(Signer::Create(MustKey(pub)).ok());
  Verifier verifier({.keys = {MustKey(pub)}});
  auto id = verifier.Verify(signer->Mint(Rep(), kNow, absl::Minutes(5)), kNow);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->user, "rep-1");

  // Another pair's public key does not verify it; rotation: both listed do.
  auto other = RsaPair();
  Verifier wrong({.keys = {MustKey(other.second)}});
  EXPECT_EQ(wrong.Verify(signer->Mint(Rep(), kNow, absl::Minutes(5)), kNow).status().code(),
            absl::StatusCode::kUnauthenticated);
  Verifier rotated({.keys = {MustKey(other.second), MustKey(pub)}});
  EXPECT_TRUE(rotated.Verify(signer->Mint(Rep(), kNow, absl::Minutes(5)), kNow).ok());
}

TEST(Jwt, RefusesExpiredAndNotYetValidTokensBeyondTheLeeway) {
  auto key = MustKey(kSecret);
  Verifier verifier({.keys = {key}});
  const std::string token = Signer::Create(key)->Mint(Rep(), kNow, absl::Minutes(5));
  EXPECT_TRUE(verifier.Verify(token, kNow + absl::Minutes(5) + absl::Seconds(29)).ok());
  auto late = verifier.Verify(token, kNow + absl::Minutes(6));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(late.status().message(), HasSubstr("expired"));
}

// A token that verified once is remembered (clients send the same one with
// every call), from any number of threads at once; its expiry still counts
// and a different token, however close, is verified on its own.
TEST(Jwt, ARememberedTokenStillExpiresAndOthersAreVerifiedAnew) {
  auto key = MustKey(kSecret);
  Verifier verifier({.keys = {key}});
  const std::string token = Signer::Create(key)->Mint(Rep(), kNow, absl::Minutes(5));
  std::vector<std::thread> callers;
  std::atomic<int> verified{0};
  for (int t = 0; t < 8; ++t) {
    callers.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        auto id = verifier.Verify(token, kNow + absl::Seconds(i));
        if (id.ok() && id->user == Rep().user && id->tenant == Rep().tenant) ++verified;
      }
    });
  }
  for (auto& c : callers) c.join();
  EXPECT_EQ(verified.load(), 800);
  EXPECT_EQ(verifier.Verify(token, kNow + absl::Minutes(6)).status().code(),
            absl::StatusCode::kUnauthenticated);
  std::string tampered = token;
  char& first_of_signature = tampered[tampered.rfind('.') + 1];
  first_of_signature = first_of_signature == 'A' ? 'B' : 'A';
  EXPECT_EQ(verifier.Verify(tampered, kNow).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(Jwt, RefusesTamperedPayloadsAndForeignSecrets) {
  auto key = MustKey(kSecret);
  Verifier verifier({.keys = {key}});
  std::string token = Signer::Create(key)->Mint(Rep(), kNow, absl::Minutes(5));
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  // Same signature, payload naming another tenant.
  Identity other = Rep();
  other.tenant = "globex";
  std::vector<std::string> forged =
      absl::StrSplit(Signer::Create(key)->Mint(other, kNow, absl::Minutes(5)), '.');
  const std::string tampered = absl::StrCat(parts[0], ".", forged[1], ".", parts[2]);
  EXPECT_THAT(verifier.Verify(tampered, kNow).status().message(), HasSubstr("does not verify"));

  auto foreign = MustKey("another-secret-of-at-least-32-bytes!!");
  EXPECT_EQ(verifier.Verify(Signer::Create(foreign)->Mint(Rep(), kNow, absl::Minutes(5)), kNow)
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(Jwt, RefusesAlgNoneAndAlgorithmConfusion) {
  auto key = MustKey(kSecret);
  Verifier verifier({.keys = {key}});
  const std::string payload =
      absl::WebSafeBase64Escape(R"({"tenant":"acme","sub":"rep-1","exp":1900000000})");
  const std::string none =
      absl::StrCat(absl::WebSafeBase64Escape(R"({"alg":"none"})"), ".", payload, ".");
  EXPECT_THAT(verifier.Verify(none, kNow).status().message(), HasSubstr("not accepted"));
  // An RS256 header verified against an HS256 secret must not fall back.
  auto [priv, pub] = RsaPair();
  Verifier rs_only({.keys = {MustKey(pub)}});
  EXPECT_FALSE(rs_only.Verify(Signer::Create(key)->Mint(Rep(), kNow, absl::Minutes(5)), kNow).ok());
}

TEST(Jwt, MalformedTokensSayWhy) {
  Verifier verifier({.keys = {MustKey(kSecret)}});
  EXPECT_THAT(verifier.Verify("", kNow).status().message(), HasSubstr("missing"));
  EXPECT_THAT(verifier.Verify("a.b", kNow).status().message(), HasSubstr("malformed"));
  EXPECT_THAT(verifier.Verify("!!.b.c", kNow).status().message(), HasSubstr("base64url"));
  EXPECT_THAT(verifier.Verify(std::string(9000, 'a'), kNow).status().message(),
              HasSubstr("longer than"));
  EXPECT_THAT(verifier.Verify(absl::StrCat(absl::WebSafeBase64Escape("[1,2"), ".x.y"), kNow)
                  .status()
                  .message(),
              HasSubstr("JSON object"));
  // Signed, but without a tenant.
  Identity no_tenant = Rep();
  no_tenant.tenant.clear();
  auto key = MustKey(kSecret);
  EXPECT_THAT(verifier.Verify(Signer::Create(key)->Mint(no_tenant, kNow, absl::Minutes(1)), kNow)
                  .status()
                  .message(),
              HasSubstr("tenant"));
}

TEST(Jwt, OnlyServicesMayActForAUser) {
  auto key = MustKey(kSecret);
  Verifier verifier({.keys = {key}});
  Identity service;
  service.tenant = "acme";
  service.user = "lead";
  service.roles = {"service"};
  service.acting_user = "rep-1";
  auto id = verifier.Verify(Signer::Create(key)->Mint(service, kNow, absl::Minutes(1)), kNow);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->acting_user, "rep-1");

  Identity rep = Rep();
  rep.acting_user = "rep-2";
  EXPECT_THAT(verifier.Verify(Signer::Create(key)->Mint(rep, kNow, absl::Minutes(1)), kNow)
                  .status()
                  .message(),
              HasSubstr("service role"));
}

TEST(Jwt, IssuerAndAudienceAreCheckedWhenConfigured) {
  auto key = MustKey(kSecret);
  Identity id = Rep();
  id.issuer = "https://id.acme.example";
  id.audience = "crm";
  const std::string token = Signer::Create(key)->Mint(id, kNow, absl::Minutes(1));
  EXPECT_TRUE(Verifier({.keys = {key}, .issuer = "https://id.acme.example", .audience = "crm"})
                  .Verify(token, kNow)
                  .ok());
  EXPECT_FALSE(Verifier({.keys = {key}, .issuer = "https://other"}).Verify(token, kNow).ok());
  EXPECT_FALSE(Verifier({.keys = {key}, .audience = "billing"}).Verify(token, kNow).ok());
}

TEST(Jwt, KeyMaterialIsChecked) {
  EXPECT_THAT(Key::FromMaterial("short").status().message(), HasSubstr("at least 32 bytes"));
  EXPECT_THAT(Key::FromMaterial("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
                  .status()
                  .message(),
              HasSubstr("cannot be read"));
  EXPECT_THAT(Key::FromMaterial(RsaPair(1024).second).status().message(), HasSubstr("2048"));
  EXPECT_FALSE(Key::FromFile("/nonexistent/key").ok());
}

}  // namespace
}  // namespace crm::auth
