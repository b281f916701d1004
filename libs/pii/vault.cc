#include "libs/pii/vault.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "crm/pii/v1/pii.pb.h"
#include "google/protobuf/descriptor.h"
#include "libs/status/status.h"
#include "libs/storage/encoding.h"
#include "libs/storage/rocks.h"

namespace crm::pii {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using storage::FromRocks;

constexpr size_t kKeyBytes = 32;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr size_t kMaxCached = 100000;
constexpr int kMaxDepth = 16;

std::string DbKey(absl::string_view tenant, absl::string_view person) {
  return absl::StrCat(tenant, absl::string_view("\0", 1), person);
}

std::string Hmac(absl::string_view key, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

// nonce || ciphertext || tag, authenticated with `aad`.
absl::StatusOr<std::string> Encrypt(absl::string_view key, absl::string_view aad,
                                    absl::string_view plain) {
  std::string out(kNonceBytes + plain.size() + kTagBytes, '\0');
  auto* buf = reinterpret_cast<unsigned char*>(out.data());
  if (RAND_bytes(buf, kNonceBytes) != 1) return absl::InternalError("no random nonce");
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  bool ok =
      ctx != nullptr &&
      EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(key.data()), buf) == 1 &&
      EVP_EncryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) == 1 &&
      EVP_EncryptUpdate(ctx, buf + kNonceBytes, &len,
                        reinterpret_cast<const unsigned char*>(plain.data()),
                        static_cast<int>(plain.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx, buf + kNonceBytes + len, &len) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagBytes, buf + kNonceBytes + plain.size()) ==
          1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return absl::InternalError("cannot encrypt personal data");
  return out;
}

absl::StatusOr<std::string> Decrypt(absl::string_view key, absl::string_view aad,
                                    absl::string_view sealed) {
  if (sealed.size() < kNonceBytes + kTagBytes) {
    return absl::DataLossError("sealed personal data is truncated");
  }
  const size_t n = sealed.size() - kNonceBytes - kTagBytes;
  const auto* in = reinterpret_cast<const unsigned char*>(sealed.data());
  std::string out(n, '\0');
  std::string tag(sealed.substr(kNonceBytes + n));
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  bool ok =
      ctx != nullptr &&
      EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(key.data()), in) == 1 &&
      EVP_DecryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &len, in + kNonceBytes,
                        static_cast<int>(n)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + len, &len) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return absl::DataLossError("sealed personal data does not authenticate");
  return out;
}

// How a message type holds a person's record.
struct Record {
  const FieldDescriptor* sealed = nullptr;
  const FieldDescriptor* person = nullptr;
  std::vector<const FieldDescriptor*> personal;
};

// The record layout of `type`; sealed == nullptr when it is not one.
const Record& RecordOf(const Descriptor* type) {
  static std::mutex mu;
  // Node-based: the references handed out stay valid as it grows.
  static auto* records = new absl::node_hash_map<const Descriptor*, Record>();
  std::lock_guard<std::mutex> lock(mu);
  auto [it, inserted] = records->try_emplace(type);
  if (!inserted) return it->second;
  Record& r = it->second;
  const FieldDescriptor* sealed = type->FindFieldByName("sealed");
  if (sealed == nullptr || sealed->message_type() != crm::pii::v1::Sealed::descriptor()) return r;
  r.sealed = sealed;
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* f = type->field(i);
    const bool string_field = f->type() == FieldDescriptor::TYPE_STRING && !f->is_repeated();
    if (f->options().GetExtension(crm::pii::v1::person_id) && string_field) r.person = f;
    if (f->options().GetExtension(crm::pii::v1::personal) && string_field) {
      r.personal.push_back(f);
    }
  }
  return r;
}

std::string Aad(absl::string_view tenant, absl::string_view person, const Descriptor* type) {
  return absl::StrCat(tenant, absl::string_view("\0", 1), person, absl::string_view("\0", 1),
                      type->full_name());
}

void ClearPersonal(Message& m, const Record& r) {
  for (const FieldDescriptor* f : r.personal) m.GetReflection()->ClearField(&m, f);
}

void MarkErased(Message& m, const Record& r, const std::string& person) {
  ClearPersonal(m, r);
  auto* sealed =
      static_cast<crm::pii::v1::Sealed*>(m.GetReflection()->MutableMessage(&m, r.sealed));
  sealed->Clear();
  sealed->set_person_id(person);
  sealed->set_erased(true);
}

// Calls `fn` on every message nested in `m` (not `m` itself) except the
// sealed records' `sealed` fields.
template <typename Fn>
absl::Status ForEachChild(Message& m, Fn&& fn) {
  const Reflection* refl = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  refl->ListFields(m, &fields);
  for (const FieldDescriptor* f : fields) {
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->message_type() == crm::pii::v1::Sealed::descriptor()) continue;
    if (f->is_repeated()) {
      for (int i = 0; i < refl->FieldSize(m, f); ++i) {
        RETURN_IF_ERROR(fn(*refl->MutableRepeatedMessage(&m, f, i)));
      }
    } else {
      RETURN_IF_ERROR(fn(*refl->MutableMessage(&m, f)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

Vault::Vault(VaultOptions options) : options_(std::move(options)) {}
Vault::~Vault() = default;

absl::StatusOr<std::unique_ptr<Vault>> Vault::Open(VaultOptions options) {
  if (options.match_secret.size() < kKeyBytes) {
    return absl::InvalidArgumentError("the personal-data match secret needs at least 32 bytes");
  }
  std::unique_ptr<Vault> vault(new Vault(std::move(options)));
  RETURN_IF_ERROR(vault->Init());
  return vault;
}

absl::Status Vault::Init() {
  rocksdb::Options options;
  options.create_if_missing = true;
  // Erasure relies on obsolete WAL files being deleted, not reused.
  options.recycle_log_file_num = 0;
  storage::PrepareToOpen(options, options_.path);
  // Keys are small; a small memtable also means little free space is needed
  // to resume writing after the disk was full (see libs/storage/rocks.h).
  options.write_buffer_size = 4 << 20;
  rocksdb::DB* db = nullptr;
  RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(options, options_.path, &db), "open key store"));
  db_.reset(db);
  return absl::OkStatus();
}

absl::StatusOr<std::string> Vault::ReadSecret(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string secret(absl::StripAsciiWhitespace(ss.str()));
  if (secret.size() < kKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": needs at least 32 bytes"));
  }
  return secret;
}

absl::StatusOr<std::optional<std::string>> Vault::Key(absl::string_view tenant,
                                                      absl::string_view person_id, bool create) {
  const std::string k = DbKey(tenant, person_id);
  std::string value;
  {
    std::unique_lock<std::mutex> lock(mu_);
    resolved_.wait(lock, [&] { return !resolving_.contains(k); });
    if (auto it = cache_.find(k); it != cache_.end()) {
      if (it->second.empty()) return std::nullopt;
      return it->second;
    }
    resolving_.insert(k);
  }
  // This caller alone reads or makes the person's key; other people's keys
  // are served meanwhile.
  bool created = false;
  auto resolve = [&]() -> absl::Status {
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), k, &value);
    if (!s.IsNotFound()) return FromRocks(s, "read key");
    if (!create) {
      return absl::DataLossError(
          absl::StrCat("no key for person ", person_id, " (the key store is not this store's)"));
    }
    value.assign(kKeyBytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(value.data()), kKeyBytes) != 1) {
      return absl::InternalError("no random key");
    }
    created = true;
    return FromRocks(PutSynced(k, value), "write key");
  };
  absl::Status resolved = resolve();
  {
    std::lock_guard<std::mutex> lock(mu_);
    resolving_.erase(k);
    if (resolved.ok()) {
      if (created) ++stats_.keys_created;
      if (cache_.size() >= kMaxCached) cache_.clear();
      cache_[k] = value;
    }
  }
  resolved_.notify_all();
  RETURN_IF_ERROR(resolved);
  if (value.empty()) return std::nullopt;
  return value;
}

rocksdb::Status Vault::PutSynced(const std::string& key, const std::string& value) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::WriteBatch batch;
  batch.Put(key, value);
  return storage::Write(db_.get(), wo, &batch);
}

absl::Status Vault::Erase(absl::string_view tenant, absl::string_view person_id) {
  if (person_id.empty()) return absl::InvalidArgumentError("person_id: is required");
  const std::string k = DbKey(tenant, person_id);
  {
    // After any caller still making the person's key (it would overwrite
    // the tombstone), and before any other.
    std::unique_lock<std::mutex> lock(mu_);
    resolved_.wait(lock, [&] { return !resolving_.contains(k); });
    // A tombstone, not a delete: no key is ever made for this person again.
    RETURN_IF_ERROR(FromRocks(PutSynced(k, ""), "erase key"));
    cache_[k] = "";
    ++stats_.erased;
  }
  // Push the old key out of the memtable, the WAL and every older file.
  RETURN_IF_ERROR(FromRocks(db_->Flush(rocksdb::FlushOptions()), "flush key store"));
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  const std::string end = k + '\1';
  rocksdb::Slice begin_s(k), end_s(end);
  return FromRocks(db_->CompactRange(co, &begin_s, &end_s), "compact key store");
}

absl::StatusOr<bool> Vault::IsErased(absl::string_view tenant, absl::string_view person_id) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), DbKey(tenant, person_id), &value);
  if (s.IsNotFound()) return false;
  RETURN_IF_ERROR(FromRocks(s, "read key"));
  return value.empty();
}

std::string Vault::MatchTag(absl::string_view tenant, absl::string_view kind,
                            absl::string_view normalized_value) const {
  const std::string tenant_key = Hmac(
      options_.match_secret, absl::StrCat("crm.pii.match", absl::string_view("\0", 1), tenant));
  const std::string mac = Hmac(tenant_key, absl::StrCat(kind, ":", normalized_value));
  return absl::StrCat(kind, ":", absl::BytesToHexString(mac.substr(0, 16)));
}

absl::Status Vault::SealMessage(absl::string_view tenant, Message& m) {
  const Record& r = RecordOf(m.GetDescriptor());
  if (r.sealed != nullptr) {
    const Reflection* refl = m.GetReflection();
    bool any = false;
    for (const FieldDescriptor* f : r.personal) any = any || !refl->GetString(m, f).empty();
    if (any) {
      const std::string person = r.person != nullptr ? refl->GetString(m, r.person) : "";
      if (person.empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "personal data in ", m.GetDescriptor()->full_name(), " without a person id"));
      }
      ASSIGN_OR_RETURN(std::optional<std::string> key, Key(tenant, person, /*create=*/true));
      if (!key) {
        MarkErased(m, r, person);
      } else {
        std::unique_ptr<Message> only(m.New());
        crm::pii::v1::Sealed sealed;
        sealed.set_person_id(person);
        for (const FieldDescriptor* f : r.personal) {
          const std::string value = refl->GetString(m, f);
          only->GetReflection()->SetString(only.get(), f, value);
          const std::string& kind = f->options().GetExtension(crm::pii::v1::match_kind);
          if (!kind.empty() && !value.empty()) {
            sealed.add_match_tags(MatchTag(tenant, kind, value));
          }
        }
        ASSIGN_OR_RETURN(
            *sealed.mutable_ciphertext(),
            Encrypt(*key, Aad(tenant, person, m.GetDescriptor()), only->SerializeAsString()));
        ClearPersonal(m, r);
        refl->MutableMessage(&m, r.sealed)->CopyFrom(sealed);
      }
    }
  }
  return ForEachChild(m, [&](Message& child) { return SealMessage(tenant, child); });
}

absl::Status Vault::OpenMessage(absl::string_view tenant, Message& m) {
  const Record& r = RecordOf(m.GetDescriptor());
  const Reflection* refl = m.GetReflection();
  if (r.sealed != nullptr && refl->HasField(m, r.sealed)) {
    const auto& sealed = static_cast<const crm::pii::v1::Sealed&>(refl->GetMessage(m, r.sealed));
    const std::string person = sealed.person_id();
    if (sealed.erased()) {
      MarkErased(m, r, person);
    } else if (!sealed.ciphertext().empty()) {
      ASSIGN_OR_RETURN(std::optional<std::string> key, Key(tenant, person, /*create=*/false));
      if (!key) {
        MarkErased(m, r, person);
        std::lock_guard<std::mutex> lock(mu_);
        ++stats_.opened_erased;
      } else {
        ASSIGN_OR_RETURN(std::string plain, Decrypt(*key, Aad(tenant, person, m.GetDescriptor()),
                                                    sealed.ciphertext()));
        std::unique_ptr<Message> only(m.New());
        if (!only->ParseFromString(plain)) {
          return absl::DataLossError("sealed personal data does not parse");
        }
        for (const FieldDescriptor* f : r.personal) {
          refl->SetString(&m, f, only->GetReflection()->GetString(*only, f));
        }
        refl->ClearField(&m, r.sealed);
      }
    } else {
      refl->ClearField(&m, r.sealed);
    }
  }
  return ForEachChild(m, [&](Message& child) { return OpenMessage(tenant, child); });
}

bool Vault::HasRecords(const Descriptor* type) {
  std::lock_guard<std::mutex> lock(mu_);
  return HasRecordsLocked(type, 0);
}

bool Vault::HasRecordsLocked(const Descriptor* type, int depth) {
  auto it = has_records_.find(type);
  if (it != has_records_.end()) return it->second;
  bool has = false;
  if (depth < kMaxDepth) {
    for (int i = 0; i < type->field_count() && !has; ++i) {
      const Descriptor* sub = type->field(i)->message_type();
      if (sub == nullptr) continue;
      has = sub == crm::pii::v1::Sealed::descriptor() || HasRecordsLocked(sub, depth + 1);
    }
  }
  if (depth == 0) has_records_[type] = has;
  return has;
}

absl::StatusOr<std::string> Vault::Seal(absl::string_view tenant, absl::string_view type,
                                        std::string payload) {
  const Descriptor* d =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(std::string(type));
  if (d == nullptr || !HasRecords(d)) return payload;
  std::unique_ptr<Message> m(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(d)->New());
  if (!m->ParseFromString(payload)) {
    return absl::InvalidArgumentError(absl::StrCat("payload of ", type, " does not parse"));
  }
  RETURN_IF_ERROR(SealMessage(tenant, *m));
  return m->SerializeAsString();
}

absl::StatusOr<std::string> Vault::Open(absl::string_view tenant, absl::string_view type,
                                        std::string payload) {
  const Descriptor* d =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(std::string(type));
  if (d == nullptr || !HasRecords(d)) return payload;
  std::unique_ptr<Message> m(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(d)->New());
  if (!m->ParseFromString(payload)) return absl::DataLossError("stored event does not parse");
  RETURN_IF_ERROR(OpenMessage(tenant, *m));
  return m->SerializeAsString();
}

VaultStats Vault::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace crm::pii
