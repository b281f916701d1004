#include "libs/readstore/read_store.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/testing/temp_dir.h"

namespace crm::readstore {
namespace {

// A new index over rows written before it existed is derived once per store;
// later runs (a restart) find the marker and derive nothing.
TEST(ReadStoreTest, RowsAreDerivedOnceFromTheRowsThereAre) {
  test::TempDir dir;
  auto store = *ReadStore::Open(dir.path() + "/read");
  for (const auto& [key, owner] : {std::pair{"t/row/a", "owner-1"}, std::pair{"t/row/b", "owner-1"},
                                   std::pair{"t/row/c", "owner-2"}}) {
    ASSERT_TRUE(store->db()->Put(rocksdb::WriteOptions(), store->rows(), key, owner).ok());
  }
  auto index = [](absl::string_view key, absl::string_view value) {
    ReadStore::Rows rows;
    if (absl::StartsWith(key, "t/row/")) {
      rows.emplace_back(absl::StrCat("idx/", value, "/", key.substr(6)), "");
    }
    return rows;
  };
  ASSERT_TRUE(store->DeriveRowsOnce("~derived-index", index).ok());
  std::vector<std::string> owner1;
  ASSERT_TRUE(store
                  ->Scan("idx/owner-1/", "",
                         [&](absl::string_view key, absl::string_view) {
                           owner1.emplace_back(key);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(owner1, (std::vector<std::string>{"idx/owner-1/a", "idx/owner-1/b"}));
  EXPECT_TRUE(store->Get("idx/owner-2/c")->has_value());

  store.reset();
  store = *ReadStore::Open(dir.path() + "/read");
  bool called = false;
  ASSERT_TRUE(store
                  ->DeriveRowsOnce("~derived-index",
                                   [&](absl::string_view, absl::string_view) {
                                     called = true;
                                     return ReadStore::Rows{};
                                   })
                  .ok());
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace crm::readstore
