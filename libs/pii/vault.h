#ifndef CRM_LIBS_PII_VAULT_H_
#define CRM_LIBS_PII_VAULT_H_

// Vault keeps one encryption key per person and seals the personal fields of
// events with it (crypto-shredding): the event store and the topics only ever
// hold ciphertext, and erasing a person deletes their key, after which no
// copy of their data anywhere can be read again.
//
// Which fields are personal is declared in the protos (crm/pii/v1/pii.proto):
// a message with a `crm.pii.v1.Sealed sealed` field is a person's record, its
// fields marked `(crm.pii.v1.personal)` are sealed into it with the key of the
// person named by its `(crm.pii.v1.person_id)` field, and those marked with a
// `match_kind` also travel as keyed hashes other services can match on.
//
// Keys live in their own RocksDB database, written with sync before any event
// sealed with them; an erased person keeps a tombstone so no key is ever made
// for them again, and erasure compacts the key away from the files. Tenants'
// matching keys derive from one platform secret (HMAC-SHA256), so the lead
// and customer services compute the same tags.
//
// Thread-safe.

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "libs/eventstore/event_store.h"
#include "rocksdb/db.h"

namespace crm::pii {

struct VaultOptions {
  // Directory of the key database.
  std::string path;
  // Secret the tenants' matching keys derive from; at least 32 bytes. Every
  // service that matches on tags must be given the same.
  std::string match_secret;
};

struct VaultStats {
  int64_t keys_created = 0;
  int64_t erased = 0;
  int64_t opened_erased = 0;  // records read after their person was erased
};

class Vault : public eventstore::PayloadCipher {
 public:
  static absl::StatusOr<std::unique_ptr<Vault>> Open(VaultOptions options);
  ~Vault() override;

  // Reads a match secret from a file (at least 32 bytes, surrounding
  // whitespace ignored).
  static absl::StatusOr<std::string> ReadSecret(const std::string& path);

  // Seals every person's record in `message` (recursively): personal fields
  // are encrypted into `sealed` and cleared, match tags computed. A person
  // without a key gets one (durably, first). An erased person's fields are
  // dropped and the record marked erased.
  absl::Status SealMessage(absl::string_view tenant, google::protobuf::Message& message);
  // The reverse: personal fields are decrypted back and `sealed` cleared; a
  // record of an erased person keeps only `sealed.person_id` and
  // `sealed.erased`. DATA_LOSS when a ciphertext does not authenticate.
  absl::Status OpenMessage(absl::string_view tenant, google::protobuf::Message& message);

  // eventstore::PayloadCipher: the same on a stored payload of type `type`.
  // Types without personal records pass through untouched.
  absl::StatusOr<std::string> Seal(absl::string_view tenant, absl::string_view type,
                                   std::string payload) override;
  absl::StatusOr<std::string> Open(absl::string_view tenant, absl::string_view type,
                                   std::string payload) override;

  // Deletes the person's key for good (durable before it returns, and
  // compacted out of the key database's files). Idempotent.
  absl::Status Erase(absl::string_view tenant, absl::string_view person_id);
  // Whether the person was erased.
  absl::StatusOr<bool> IsErased(absl::string_view tenant, absl::string_view person_id);

  // The tag a value of `kind` ("phone", "email") carries in Sealed.match_tags.
  std::string MatchTag(absl::string_view tenant, absl::string_view kind,
                       absl::string_view normalized_value) const;

  VaultStats stats() const;

 private:
  struct KeyState;
  explicit Vault(VaultOptions options);
  absl::Status Init();
  // The person's key; nullopt when erased. Creates one if `create`.
  absl::StatusOr<std::optional<std::string>> Key(absl::string_view tenant,
                                                 absl::string_view person_id, bool create);
  bool HasRecords(const google::protobuf::Descriptor* type);
  // Stores `value` at `key`, fsynced.
  rocksdb::Status PutSynced(const std::string& key, const std::string& value);
  bool HasRecordsLocked(const google::protobuf::Descriptor* type, int depth);

  VaultOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  mutable std::mutex mu_;
  // Keys read or made, by tenant \0 person; "" = erased. Cleared when large.
  absl::flat_hash_map<std::string, std::string> cache_;
  // People whose key a caller is reading or making outside mu_ (the synced
  // write of a new key must not hold up everyone else's); others asking
  // for the same person wait on resolved_.
  absl::flat_hash_set<std::string> resolving_;
  std::condition_variable resolved_;
  absl::flat_hash_map<const google::protobuf::Descriptor*, bool> has_records_;
  VaultStats stats_;
};

}  // namespace crm::pii

#endif  // CRM_LIBS_PII_VAULT_H_
