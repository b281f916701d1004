#include "libs/auth/jwt.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace crm::auth {
namespace {

constexpr size_t kMaxTokenBytes = 8192;
constexpr size_t kMinSecretBytes = 32;
constexpr size_t kMaxVerified = 4096;

absl::Status Unauthenticated(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("bearer token ", why));
}

EVP_PKEY* Pkey(void* p) { return static_cast<EVP_PKEY*>(p); }

std::string HmacSha256(const std::string& secret, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

bool RsaVerify(EVP_PKEY* key, absl::string_view data, absl::string_view sig) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      ctx != nullptr && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

std::string RsaSign(EVP_PKEY* key, absl::string_view data) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string sig;
  size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  if (ctx != nullptr && EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestSign(ctx, nullptr, &len, in, data.size()) == 1) {
    sig.resize(len);
    if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, in, data.size()) ==
        1) {
      sig.resize(len);
    } else {
      sig.clear();
    }
  }
  EVP_MD_CTX_free(ctx);
  return sig;
}

absl::StatusOr<google::protobuf::Struct> ParseJsonObject(absl::string_view base64url,
                                                         absl::string_view part) {
  std::string json;
  if (!absl::WebSafeBase64Unescape(base64url, &json)) {
    return Unauthenticated(absl::StrCat("is malformed: its ", part, " is not base64url"));
  }
  google::protobuf::Struct object;
  if (!google::protobuf::util::JsonStringToMessage(json, &object).ok()) {
    return Unauthenticated(absl::StrCat("is malformed: its ", part, " is not a JSON object"));
  }
  return object;
}

const google::protobuf::Value* Field(const google::protobuf::Struct& s, const std::string& name) {
  auto it = s.fields().find(name);
  return it == s.fields().end() ? nullptr : &it->second;
}

std::string StringClaim(const google::protobuf::Struct& s, const std::string& name) {
  const auto* v = Field(s, name);
  return v != nullptr && v->has_string_value() ? v->string_value() : "";
}

// A list claim: a JSON array of strings, or one string of names separated
// by spaces or commas (the OAuth `scope` style).
std::vector<std::string> ListClaim(const google::protobuf::Struct& s, const std::string& name) {
  std::vector<std::string> out;
  const auto* v = Field(s, name);
  if (v == nullptr) return out;
  if (v->has_string_value()) {
    for (absl::string_view part :
         absl::StrSplit(v->string_value(), absl::ByAnyChar(" ,"), absl::SkipEmpty())) {
      out.emplace_back(part);
    }
  } else if (v->has_list_value()) {
    for (const auto& item : v->list_value().values()) {
      if (item.has_string_value() && !item.string_value().empty()) {
        out.push_back(item.string_value());
      }
    }
  }
  return out;
}

absl::StatusOr<absl::Time> TimeClaim(const google::protobuf::Struct& s, const std::string& name,
                                     bool required) {
  const auto* v = Field(s, name);
  if (v == nullptr) {
    if (required) return Unauthenticated(absl::StrCat("has no `", name, "` claim"));
    return absl::InfinitePast();
  }
  if (!v->has_number_value() || !std::isfinite(v->number_value()) || v->number_value() < 0 ||
      v->number_value() > 1e11) {
    return Unauthenticated(absl::StrCat("claim `", name, "` is not a time in seconds"));
  }
  return absl::FromUnixSeconds(static_cast<int64_t>(v->number_value()));
}

}  // namespace

Key::~Key() { EVP_PKEY_free(Pkey(pkey_)); }

const char* Key::algorithm() const { return pkey_ != nullptr ? "RS256" : "HS256"; }

bool Key::can_sign() const { return pkey_ == nullptr || private_; }

absl::StatusOr<std::shared_ptr<const Key>> Key::FromMaterial(absl::string_view material) {
  std::shared_ptr<Key> key(new Key());
  if (!absl::StrContains(material, "-----BEGIN")) {
    key->secret_ = std::string(absl::StripSuffix(absl::StripSuffix(material, "\n"), "\r"));
    if (key->secret_.size() < kMinSecretBytes) {
      return absl::InvalidArgumentError(absl::StrCat("an HS256 secret must be at least ",
                                                     kMinSecretBytes, " bytes, not ",
                                                     key->secret_.size()));
    }
    return std::shared_ptr<const Key>(std::move(key));
  }
  BIO* bio = BIO_new_mem_buf(material.data(), static_cast<int>(material.size()));
  if (absl::StrContains(material, "PRIVATE KEY-----")) {
    key->pkey_ = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    key->private_ = true;
  } else {
    key->pkey_ = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  }
  BIO_free(bio);
  if (key->pkey_ == nullptr) {
    return absl::InvalidArgumentError("the PEM key cannot be read");
  }
  if (EVP_PKEY_get_base_id(Pkey(key->pkey_)) != EVP_PKEY_RSA) {
    return absl::InvalidArgumentError("the PEM key is not an RSA key (RS256)");
  }
  if (EVP_PKEY_get_bits(Pkey(key->pkey_)) < 2048) {
    return absl::InvalidArgumentError("the RSA key must have at least 2048 bits");
  }
  return std::shared_ptr<const Key>(std::move(key));
}

absl::StatusOr<std::shared_ptr<const Key>> Key::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read key file ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto key = FromMaterial(buffer.str());
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("key file ", path, ": ", key.status().message()));
  }
  return key;
}

absl::StatusOr<Identity> Verifier::Verify(absl::string_view token, absl::Time now) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = verified_.find(token); it != verified_.end()) {
      if (absl::Status s = CheckTimes(it->second.identity, it->second.not_before, now); !s.ok()) {
        return s;
      }
      return it->second.identity;
    }
  }
  absl::Time not_before;
  absl::StatusOr<Identity> id = VerifyAnew(token, now, &not_before);
  if (!id.ok()) return id;
  std::lock_guard<std::mutex> lock(mu_);
  if (verified_.size() >= kMaxVerified) verified_.clear();
  verified_.emplace(std::string(token), Verified{*id, not_before});
  return id;
}

absl::Status Verifier::CheckTimes(const Identity& id, absl::Time not_before, absl::Time now) const {
  if (now > id.expires + options_.leeway) return Unauthenticated("has expired");
  if (now + options_.leeway < not_before) return Unauthenticated("is not valid yet (nbf)");
  return absl::OkStatus();
}

absl::StatusOr<Identity> Verifier::VerifyAnew(absl::string_view token, absl::Time now,
                                              absl::Time* not_before) const {
  if (token.empty()) return Unauthenticated("is missing");
  if (token.size() > kMaxTokenBytes) {
    return Unauthenticated(absl::StrCat("is longer than ", kMaxTokenBytes, " bytes"));
  }
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) return Unauthenticated("is malformed: it is not header.payload.signature");
  auto header = ParseJsonObject(parts[0], "header");
  if (!header.ok()) return header.status();
  const std::string alg = StringClaim(*header, "alg");
  if (alg != "HS256" && alg != "RS256") {
    return Unauthenticated(absl::StrCat("algorithm \"", alg, "\" is not accepted (HS256, RS256)"));
  }
  std::string signature;
  if (!absl::WebSafeBase64Unescape(parts[2], &signature) || signature.empty()) {
    return Unauthenticated("is malformed: its signature is not base64url");
  }
  const absl::string_view signed_part(parts[0].data(), parts[0].size() + 1 + parts[1].size());
  bool verified = false;
  for (const auto& key : options_.keys) {
    if (alg != key->algorithm()) continue;
    if (key->pkey_ == nullptr) {
      const std::string mac = HmacSha256(key->secret_, signed_part);
      verified = mac.size() == signature.size() &&
                 CRYPTO_memcmp(mac.data(), signature.data(), mac.size()) == 0;
    } else {
      verified = RsaVerify(Pkey(key->pkey_), signed_part, signature);
    }
    if (verified) break;
  }
  if (!verified) return Unauthenticated("signature does not verify with any configured key");

  auto claims = ParseJsonObject(parts[1], "payload");
  if (!claims.ok()) return claims.status();
  Identity id;
  id.tenant = StringClaim(*claims, "tenant");
  id.user = StringClaim(*claims, "sub");
  if (id.tenant.empty()) return Unauthenticated("has no `tenant` claim");
  if (id.user.empty()) return Unauthenticated("has no `sub` claim");
  for (auto& role : ListClaim(*claims, "roles")) id.roles.insert(std::move(role));
  id.teams = ListClaim(*claims, "teams");
  if (std::string team = StringClaim(*claims, "team"); !team.empty()) {
    id.teams.insert(id.teams.begin(), team);
  }
  auto exp = TimeClaim(*claims, "exp", true);
  if (!exp.ok()) return exp.status();
  auto nbf = TimeClaim(*claims, "nbf", false);
  if (!nbf.ok()) return nbf.status();
  id.expires = *exp;
  *not_before = *nbf;
  if (absl::Status s = CheckTimes(id, *nbf, now); !s.ok()) return s;
  id.issuer = StringClaim(*claims, "iss");
  if (!options_.issuer.empty() && id.issuer != options_.issuer) {
    return Unauthenticated(
        absl::StrCat("issuer \"", id.issuer, "\" is not \"", options_.issuer, "\""));
  }
  if (!options_.audience.empty()) {
    const auto audiences = ListClaim(*claims, "aud");
    if (std::find(audiences.begin(), audiences.end(), options_.audience) == audiences.end()) {
      return Unauthenticated(absl::StrCat("is not meant for audience \"", options_.audience, "\""));
    }
    id.audience = options_.audience;
  }
  if (const auto* act = Field(*claims, "act"); act != nullptr && act->has_struct_value()) {
    // Only a service may act for someone else.
    if (!id.roles.count("service")) {
      return Unauthenticated("carries `act` without the service role");
    }
    id.acting_user = StringClaim(act->struct_value(), "sub");
  }
  return id;
}

absl::StatusOr<Signer> Signer::Create(std::shared_ptr<const Key> key) {
  if (key == nullptr || !key->can_sign()) {
    return absl::InvalidArgumentError("a public key cannot sign tokens; give the private key");
  }
  return Signer(std::move(key));
}

std::string Signer::Mint(const Identity& identity, absl::Time now, absl::Duration ttl) const {
  google::protobuf::Struct header;
  (*header.mutable_fields())["alg"].set_string_value(key_->algorithm());
  (*header.mutable_fields())["typ"].set_string_value("JWT");
  google::protobuf::Struct claims;
  auto& f = *claims.mutable_fields();
  f["tenant"].set_string_value(identity.tenant);
  f["sub"].set_string_value(identity.user);
  for (const auto& role : identity.roles) {
    f["roles"].mutable_list_value()->add_values()->set_string_value(role);
  }
  for (const auto& team : identity.teams) {
    f["teams"].mutable_list_value()->add_values()->set_string_value(team);
  }
  if (!identity.acting_user.empty()) {
    (*f["act"].mutable_struct_value()->mutable_fields())["sub"].set_string_value(
        identity.acting_user);
  }
  if (!identity.issuer.empty()) f["iss"].set_string_value(identity.issuer);
  if (!identity.audience.empty()) f["aud"].set_string_value(identity.audience);
  f["iat"].set_number_value(static_cast<double>(absl::ToUnixSeconds(now)));
  f["exp"].set_number_value(static_cast<double>(absl::ToUnixSeconds(now + ttl)));
  std::string header_json, claims_json;
  (void)google::protobuf::util::MessageToJsonString(header, &header_json);
  (void)google::protobuf::util::MessageToJsonString(claims, &claims_json);
  std::string out = absl::StrCat(absl::WebSafeBase64Escape(header_json), ".",
                                 absl::WebSafeBase64Escape(claims_json));
  const std::string sig =
      key_->pkey_ == nullptr ? HmacSha256(key_->secret_, out) : RsaSign(Pkey(key_->pkey_), out);
  absl::StrAppend(&out, ".", absl::WebSafeBase64Escape(sig));
  return out;
}

}  // namespace crm::auth
