#ifndef CRM_LIBS_AUTH_JWT_H_
#define CRM_LIBS_AUTH_JWT_H_

// Bearer tokens: JSON Web Tokens (RFC 7519) signed with HS256 (a shared
// secret) or RS256 (an RSA key pair), verified and minted with OpenSSL.
//
// Claims the platform reads:
//   tenant  string, required      the tenant every key of the call starts with
//   sub     string, required      the user (or, for `service`, the service)
//   roles   array or "a b"/"a,b"  rep, manager, admin, bi, service, team-lead…
//   team / teams                  the teams the user belongs to or manages
//   exp     number, required      expiry (seconds since the epoch)
//   nbf     number                not before
//   iss/aud string                checked when the verifier is given one
//   act     {"sub": user}         with role `service`: the user a service acts for

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace crm::auth {

struct Identity {
  std::string tenant;
  std::string user;
  std::set<std::string> roles;
  std::vector<std::string> teams;
  // Set only on service tokens: the user the calling service acts for.
  std::string acting_user;
  std::string issuer;
  std::string audience;
  absl::Time expires = absl::InfinitePast();
};

// Key material. A key file holds either a shared secret (HS256: the file's
// bytes, trailing newline dropped, at least 32 bytes) or a PEM key (RS256:
// "-----BEGIN PUBLIC KEY-----" to verify, "-----BEGIN PRIVATE KEY-----" or
// "-----BEGIN RSA PRIVATE KEY-----" to sign; a private key also verifies).
class Key {
 public:
  // INVALID_ARGUMENT naming what is wrong with the material.
  static absl::StatusOr<std::shared_ptr<const Key>> FromMaterial(absl::string_view material);
  static absl::StatusOr<std::shared_ptr<const Key>> FromFile(const std::string& path);
  ~Key();
  Key(const Key&) = delete;
  Key& operator=(const Key&) = delete;

  // "HS256" or "RS256".
  const char* algorithm() const;
  bool can_sign() const;

 private:
  friend class Verifier;
  friend class Signer;
  Key() = default;
  std::string secret_;    // HS256
  void* pkey_ = nullptr;  // RS256: EVP_PKEY*
  bool private_ = false;
};

// Verifies tokens against every configured key of the token's algorithm (so
// keys can be rotated by adding the new one before retiring the old).
class Verifier {
 public:
  struct Options {
    std::vector<std::shared_ptr<const Key>> keys = {};
    std::string issuer = {};    // when set, `iss` must equal it
    std::string audience = {};  // when set, `aud` must equal or contain it
    absl::Duration leeway = absl::Seconds(30);
  };
  explicit Verifier(Options options) : options_(std::move(options)) {}

  // UNAUTHENTICATED saying why for a malformed, unsigned, badly signed,
  // expired or not-yet-valid token, or one missing a required claim.
  // A token verified before is not checked again, but its times are.
  absl::StatusOr<Identity> Verify(absl::string_view token, absl::Time now) const;

 private:
  absl::StatusOr<Identity> VerifyAnew(absl::string_view token, absl::Time now,
                                      absl::Time* not_before) const;
  // Why `id` (not valid before `not_before`) is refused at `now`, if it is.
  absl::Status CheckTimes(const Identity& id, absl::Time not_before, absl::Time now) const;

  Options options_;
  // Tokens that verified, with what they carry: clients send the same token
  // with every call until it expires. Cleared when large.
  struct Verified {
    Identity identity;
    absl::Time not_before;
  };
  mutable std::mutex mu_;
  mutable absl::flat_hash_map<std::string, Verified> verified_;
};

// Mints tokens (for services acting for users, the CLI and tests).
class Signer {
 public:
  // INVALID_ARGUMENT when `key` cannot sign (a public key).
  static absl::StatusOr<Signer> Create(std::shared_ptr<const Key> key);

  // A token carrying `identity`, expiring `ttl` after `now`.
  std::string Mint(const Identity& identity, absl::Time now, absl::Duration ttl) const;

 private:
  explicit Signer(std::shared_ptr<const Key> key) : key_(std::move(key)) {}
  std::shared_ptr<const Key> key_;
};

}  // namespace crm::auth

#endif  // CRM_LIBS_AUTH_JWT_H_
