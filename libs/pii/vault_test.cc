#include "libs/pii/vault.h"

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "crm/customer/events/v1/customer_events.pb.h"
#include "crm/lead/events/v1/lead_events.pb.h"
#include "gtest/gtest.h"
#include "libs/testing/process.h"
#include "libs/testing/temp_dir.h"

namespace crm::pii {
namespace {

namespace cev = crm::customer::events::v1;
namespace lev = crm::lead::events::v1;

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";

cev::CustomerCreated Created() {
  cev::CustomerCreated e;
  e.set_customer_id("c1");
  e.mutable_profile()->set_company_name("Acme Ltd");
  cev::Contact* c = e.mutable_profile()->add_contacts();
  c->set_contact_id("k1");
  c->set_person_id("c1/k1/1");
  c->set_name("Ada Lovelace");
  c->set_title("CTO");
  c->set_phone("+4915112345678");
  c->set_email("ada@acme.example");
  c->set_key_person(true);
  return e;
}

class VaultTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    vault_.reset();
    auto v = Vault::Open({dir_.path() + "/keys", kSecret});
    ASSERT_TRUE(v.ok()) << v.status();
    vault_ = std::move(*v);
  }
  std::string Seal(const google::protobuf::Message& m, const std::string& tenant = "t1") {
    auto sealed = vault_->Seal(tenant, m.GetDescriptor()->full_name(), m.SerializeAsString());
    EXPECT_TRUE(sealed.ok()) << sealed.status();
    return sealed.value_or("");
  }
  template <typename M>
  M Open(const std::string& payload, const std::string& tenant = "t1") {
    auto opened = vault_->Open(tenant, M::descriptor()->full_name(), payload);
    EXPECT_TRUE(opened.ok()) << opened.status();
    M m;
    m.ParseFromString(opened.value_or(""));
    return m;
  }
  test::TempDir dir_;
  std::unique_ptr<Vault> vault_;
};

TEST_F(VaultTest, SealedPayloadHoldsNoPersonalDataAndOpensBack) {
  const std::string sealed = Seal(Created());
  for (const char* plain : {"Ada Lovelace", "CTO", "+4915112345678", "ada@acme.example"}) {
    EXPECT_EQ(sealed.find(plain), std::string::npos) << plain;
  }
  EXPECT_NE(sealed.find("Acme Ltd"), std::string::npos);  // the company is not personal
  cev::CustomerCreated raw;
  ASSERT_TRUE(raw.ParseFromString(sealed));
  const cev::Contact& c = raw.profile().contacts(0);
  EXPECT_TRUE(c.name().empty());
  EXPECT_EQ(c.sealed().person_id(), "c1/k1/1");
  EXPECT_TRUE(c.key_person());
  EXPECT_EQ(c.sealed().match_tags_size(), 2);
  EXPECT_EQ(c.sealed().match_tags(0), vault_->MatchTag("t1", "phone", "+4915112345678"));

  Reopen();  // keys are durable
  const auto opened = Open<cev::CustomerCreated>(sealed);
  EXPECT_EQ(opened.SerializeAsString(), Created().SerializeAsString());
}

// New people's keys are made (and synced) outside the vault's lock; callers
// sealing for the same person at once still share one key, and an erasure
// racing them leaves the person erased.
TEST_F(VaultTest, ConcurrentSealsShareOnePersonsKeyAndErasureWins) {
  std::vector<std::string> sealed(16);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < sealed.size(); ++t) {
    threads.emplace_back([&, t] {
      cev::CustomerCreated e = Created();
      // Half share person c1/k1/1; the others are people of their own.
      if (t % 2) e.mutable_profile()->mutable_contacts(0)->set_person_id(absl::StrCat("p", t));
      sealed[t] = Seal(e);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(vault_->stats().keys_created, 9);
  Reopen();  // what each opens with is the durable key
  for (size_t t = 0; t < sealed.size(); ++t) {
    EXPECT_EQ(Open<cev::CustomerCreated>(sealed[t]).profile().contacts(0).name(), "Ada Lovelace")
        << t;
  }

  threads.clear();
  std::vector<std::string> racing(8);
  for (size_t t = 0; t < racing.size(); ++t) {
    threads.emplace_back([&, t] {
      cev::CustomerCreated e = Created();
      e.mutable_profile()->mutable_contacts(0)->set_person_id("racer");
      racing[t] = Seal(e);
    });
  }
  ASSERT_TRUE(vault_->Erase("t1", "racer").ok());
  for (auto& t : threads) t.join();
  EXPECT_TRUE(*vault_->IsErased("t1", "racer"));
  Reopen();
  EXPECT_TRUE(*vault_->IsErased("t1", "racer"));
  for (const std::string& s : racing) {
    EXPECT_TRUE(Open<cev::CustomerCreated>(s).profile().contacts(0).name().empty());
  }
}

TEST_F(VaultTest, MatchTagsDependOnTenantAndSecret) {
  EXPECT_EQ(vault_->MatchTag("t1", "email", "a@b.example"),
            vault_->MatchTag("t1", "email", "a@b.example"));
  EXPECT_NE(vault_->MatchTag("t1", "email", "a@b.example"),
            vault_->MatchTag("t2", "email", "a@b.example"));
  auto other = Vault::Open({dir_.path() + "/other", std::string(kSecret) + "x"});
  ASSERT_TRUE(other.ok());
  EXPECT_NE((*other)->MatchTag("t1", "email", "a@b.example"),
            vault_->MatchTag("t1", "email", "a@b.example"));
  EXPECT_EQ(vault_->MatchTag("t1", "email", "a@b.example").rfind("email:", 0), 0u);
}

TEST_F(VaultTest, ErasureMakesEveryCopyUnreadableAndRemovesTheKeyFromDisk) {
  const std::string sealed = Seal(Created());
  std::string key;
  {
    rocksdb::DB* ro = nullptr;
    ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), dir_.path() + "/keys", &ro).ok());
    ASSERT_TRUE(ro->Get(rocksdb::ReadOptions(), std::string("t1\0c1/k1/1", 10), &key).ok());
    delete ro;
  }
  ASSERT_EQ(key.size(), 32u);
  ASSERT_NE(test::ReadTree(dir_.path() + "/keys").find(key), std::string::npos);

  ASSERT_TRUE(vault_->Erase("t1", "c1/k1/1").ok());
  ASSERT_TRUE(vault_->Erase("t1", "c1/k1/1").ok());  // idempotent
  EXPECT_TRUE(*vault_->IsErased("t1", "c1/k1/1"));
  EXPECT_EQ(test::ReadTree(dir_.path() + "/keys").find(key), std::string::npos);

  Reopen();
  const auto opened = Open<cev::CustomerCreated>(sealed);
  const cev::Contact& c = opened.profile().contacts(0);
  EXPECT_TRUE(c.name().empty() && c.title().empty() && c.phone().empty() && c.email().empty());
  EXPECT_TRUE(c.sealed().erased());
  EXPECT_TRUE(c.sealed().ciphertext().empty());
  EXPECT_EQ(c.sealed().match_tags_size(), 0);
  EXPECT_TRUE(c.key_person());
  EXPECT_EQ(opened.profile().company_name(), "Acme Ltd");
  EXPECT_EQ(vault_->stats().opened_erased, 1);

  // New data for an erased person is never sealed with a new key.
  const auto again = Open<cev::CustomerCreated>(Seal(Created()));
  EXPECT_TRUE(again.profile().contacts(0).sealed().erased());
  EXPECT_TRUE(again.profile().contacts(0).name().empty());
}

TEST_F(VaultTest, NestedRecordsAreSealedToo) {
  lev::LeadMerged merged;
  merged.set_lead_id("l1");
  merged.mutable_merged()->set_lead_id("l2");
  merged.mutable_merged()->set_contact_name("Grace Hopper");
  merged.mutable_merged()->set_company_name("Navy");
  const std::string sealed = Seal(merged);
  EXPECT_EQ(sealed.find("Grace Hopper"), std::string::npos);
  EXPECT_EQ(Open<lev::LeadMerged>(sealed).merged().contact_name(), "Grace Hopper");
  ASSERT_TRUE(vault_->Erase("t1", "l2").ok());
  EXPECT_TRUE(Open<lev::LeadMerged>(sealed).merged().contact_name().empty());
  EXPECT_EQ(Open<lev::LeadMerged>(sealed).merged().company_name(), "Navy");
}

TEST_F(VaultTest, TamperedCiphertextAndForeignTenantAreDataLoss) {
  cev::CustomerCreated raw;
  ASSERT_TRUE(raw.ParseFromString(Seal(Created())));
  std::string* ct =
      raw.mutable_profile()->mutable_contacts(0)->mutable_sealed()->mutable_ciphertext();
  (*ct)[ct->size() / 2] ^= 1;
  auto opened =
      vault_->Open("t1", "crm.customer.events.v1.CustomerCreated", raw.SerializeAsString());
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss);
  // Another tenant has no key for the person.
  auto foreign = vault_->Open("t2", "crm.customer.events.v1.CustomerCreated", Seal(Created()));
  EXPECT_EQ(foreign.status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(VaultTest, PersonalDataNeedsAPersonAndOtherTypesPassUntouched) {
  cev::CustomerCreated e = Created();
  e.mutable_profile()->mutable_contacts(0)->clear_person_id();
  auto sealed = vault_->Seal("t1", "crm.customer.events.v1.CustomerCreated", e.SerializeAsString());
  EXPECT_EQ(sealed.status().code(), absl::StatusCode::kFailedPrecondition);

  cev::CustomerClaimed claimed;
  claimed.set_customer_id("c1");
  claimed.set_owner_id("rep-1");
  const std::string bytes = claimed.SerializeAsString();
  EXPECT_EQ(*vault_->Seal("t1", "crm.customer.events.v1.CustomerClaimed", bytes), bytes);
  EXPECT_EQ(*vault_->Seal("t1", "no.such.Type", "xyz"), "xyz");
  EXPECT_FALSE(Vault::Open({dir_.path() + "/short", "too short"}).ok());
}

TEST_F(VaultTest, EventStoreKeepsOnlySealedPayloadsAndReadsThemOpen) {
  auto store =
      eventstore::EventStore::Open({.path = dir_.path() + "/events", .cipher = vault_.get()});
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE(
      (*store)
          ->Append({"t1", "c1"}, eventstore::kNoStream,
                   {{"crm.customer.events.v1.CustomerCreated", Created().SerializeAsString()}},
                   "r1")
          .ok());
  auto stream = (*store)->ReadStream({"t1", "c1"});
  ASSERT_TRUE(stream.ok());
  EXPECT_EQ(stream->at(0).payload(), Created().SerializeAsString());
  auto published = (*store)->ReadLog(1, 10, eventstore::EventStore::Payloads::kSealed);
  ASSERT_TRUE(published.ok());
  EXPECT_EQ(published->at(0).payload().find("Ada Lovelace"), std::string::npos);
  store->reset();
  EXPECT_EQ(test::ReadTree(dir_.path() + "/events").find("Ada Lovelace"), std::string::npos);
}

}  // namespace
}  // namespace crm::pii
