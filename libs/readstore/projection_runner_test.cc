#include "libs/readstore/projection_runner.h"

#include <algorithm>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "libs/eventstore/event_store.h"
#include "libs/testing/temp_dir.h"

namespace crm::readstore {
namespace {

// Counts events per tenant; refuses payloads starting "poison" unless fixed.
class CountingProjection : public Projection {
 public:
  std::string name() const override { return "counts"; }
  absl::Status Apply(const StoredEvent& e, RowWriter& rows) override {
    rows.Put(absl::StrCat("seen/", e.event_id()), "1");  // undone when parked
    if (absl::StartsWith(e.payload(), "poison") && !fixed) {
      return absl::InvalidArgumentError("cannot apply");
    }
    payloads.push_back(e.payload());
    auto current = rows.Get(absl::StrCat(e.tenant(), "/count"));
    if (!current.ok()) return current.status();
    int64_t n = 0;
    if (*current) (void)absl::SimpleAtoi(**current, &n);
    rows.Put(absl::StrCat(e.tenant(), "/count"), absl::StrCat(n + 1));
    return absl::OkStatus();
  }
  bool fixed = false;
  std::vector<std::string> payloads;  // of the events applied
};

// "Seals" a payload by reversing it behind a mark; refuses tenant
// "unsealable".
class ReversingCipher : public eventstore::PayloadCipher {
 public:
  absl::StatusOr<std::string> Seal(absl::string_view tenant, absl::string_view,
                                   std::string payload) override {
    if (tenant == "unsealable") return absl::UnavailableError("key store unavailable");
    std::reverse(payload.begin(), payload.end());
    return "sealed:" + payload;
  }
  absl::StatusOr<std::string> Open(absl::string_view, absl::string_view,
                                   std::string payload) override {
    absl::string_view v = payload;
    if (!absl::ConsumePrefix(&v, "sealed:")) return absl::DataLossError("not sealed");
    return std::string(v.rbegin(), v.rend());
  }
};

Envelope Event(int64_t offset, std::string stream, int64_t version, std::string payload = "ok",
               int32_t partition = 0) {
  Envelope e;
  e.source = "topic";
  e.partition = partition;
  e.offset = offset;
  e.event.set_tenant("t1");
  e.event.set_stream_id(std::move(stream));
  e.event.set_version(version);
  e.event.set_type("test.Event");
  e.event.set_payload(std::move(payload));
  e.event.set_event_id(absl::StrCat("ev-", offset, "-", partition));
  return e;
}

class ProjectionRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    runner_.reset();
    store_.reset();
    store_ = *ReadStore::Open(dir_.path() + "/read");
    runner_ = std::make_unique<ProjectionRunner>(store_.get(), &projection_);
  }
  int64_t Count() {
    auto v = store_->Get("t1/count");
    int64_t n = 0;
    if (v.ok() && *v) (void)absl::SimpleAtoi(**v, &n);
    return n;
  }
  test::TempDir dir_;
  CountingProjection projection_;
  std::unique_ptr<ReadStore> store_;
  std::unique_ptr<ProjectionRunner> runner_;
};

TEST_F(ProjectionRunnerTest, RedeliveryIsAppliedOnce) {
  ASSERT_TRUE(runner_->ApplyBatch({Event(0, "a", 1), Event(1, "a", 2), Event(2, "b", 1)}).ok());
  EXPECT_EQ(Count(), 3);
  EXPECT_EQ(*runner_->Offset("topic", 0), 2);
  // The same messages again (a consumer that restarted before saving offsets).
  ASSERT_TRUE(runner_->ApplyBatch({Event(0, "a", 1), Event(1, "a", 2), Event(2, "b", 1)}).ok());
  EXPECT_EQ(Count(), 3);
  // The same events at new offsets (a republishing relay).
  ASSERT_TRUE(runner_->ApplyBatch({Event(3, "a", 1), Event(4, "a", 2), Event(5, "a", 3)}).ok());
  EXPECT_EQ(Count(), 4);
  EXPECT_EQ(runner_->stats().duplicates, 5);

  Reopen();
  ASSERT_TRUE(runner_->ApplyBatch({Event(5, "a", 3), Event(6, "b", 2)}).ok());
  EXPECT_EQ(Count(), 5);
  EXPECT_EQ(*runner_->Offset("topic", 0), 6);
}

// The service's own log is read in order and holds each aggregate's versions
// without gaps: its position alone makes it exact, and the read store keeps
// no applied version per aggregate for it (a rebuild writes none).
TEST_F(ProjectionRunnerTest, TheLogsEventsAreExactByPositionAlone) {
  auto from_log = [](int64_t position, std::string stream, int64_t version) {
    Envelope e = Event(position, std::move(stream), version);
    e.source = kLogSource;
    return e;
  };
  ASSERT_TRUE(
      runner_->ApplyBatch({from_log(1, "a", 1), from_log(2, "a", 2), from_log(3, "b", 1)}).ok());
  EXPECT_EQ(Count(), 3);
  // Read again from an older position (a tailer restarted before its batch
  // was recorded): nothing at or below the recorded position applies twice.
  ASSERT_TRUE(
      runner_->ApplyBatch({from_log(2, "a", 2), from_log(3, "b", 1), from_log(4, "a", 3)}).ok());
  EXPECT_EQ(Count(), 4);
  EXPECT_EQ(runner_->stats().duplicates, 2);
  EXPECT_EQ(*runner_->Offset(kLogSource, 0), 4);

  std::vector<std::string> progress;
  std::unique_ptr<rocksdb::Iterator> it(
      store_->db()->NewIterator(rocksdb::ReadOptions(), store_->progress()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) progress.push_back(it->key().ToString());
  ASSERT_EQ(progress.size(), 1u);
  EXPECT_TRUE(absl::StartsWith(progress[0], "offset")) << progress[0];

  // A topic's events are still checked against each aggregate's version.
  ASSERT_TRUE(runner_->ApplyBatch({Event(0, "c", 1), Event(1, "c", 1)}).ok());
  EXPECT_EQ(Count(), 5);
  EXPECT_EQ(runner_->stats().duplicates, 3);
}

TEST_F(ProjectionRunnerTest, DuplicatesInsideOneBatchApplyOnce) {
  ASSERT_TRUE(runner_->ApplyBatch({Event(0, "a", 1), Event(1, "a", 1), Event(2, "a", 2)}).ok());
  EXPECT_EQ(Count(), 2);
}

TEST_F(ProjectionRunnerTest, GapIsSkippedUntilTheSourceRewinds) {
  ASSERT_TRUE(runner_->ApplyBatch({Event(0, "a", 2)}).ok());
  EXPECT_EQ(Count(), 0);
  EXPECT_EQ(runner_->stats().gaps, 1);
  // A new cluster: offsets dropped, replay from the start applies in order.
  EXPECT_TRUE(*runner_->BindCluster("topic", "cluster-2"));
  EXPECT_EQ(*runner_->Offset("topic", 0), -1);
  ASSERT_TRUE(runner_->ApplyBatch({Event(0, "a", 1), Event(1, "a", 2)}).ok());
  EXPECT_EQ(Count(), 2);
  EXPECT_FALSE(*runner_->BindCluster("topic", "cluster-2"));
  EXPECT_EQ(*runner_->Offset("topic", 0), 1);
}

TEST_F(ProjectionRunnerTest, PoisonEventIsParkedAndReplayedAfterAFix) {
  Envelope undecodable = Event(3, "c", 1);
  undecodable.decode_error = "missing header ce_type";
  undecodable.raw = "\x01\x02";
  undecodable.event.clear_type();
  ASSERT_TRUE(runner_
                  ->ApplyBatch(
                      {Event(0, "a", 1), Event(1, "a", 2, "poison"), Event(2, "a", 3), undecodable})
                  .ok());
  EXPECT_EQ(Count(), 2);  // the projection went on past the poison event
  EXPECT_EQ(runner_->stats().parked, 2);
  auto parked = runner_->Parked(10);
  ASSERT_EQ(parked->size(), 2u);
  EXPECT_EQ((*parked)[0].event().version(), 2);
  EXPECT_NE((*parked)[0].error().find("cannot apply"), std::string::npos);
  EXPECT_EQ((*parked)[1].error(), "missing header ce_type");
  // The refused event's row writes were undone.
  EXPECT_FALSE(store_->Get("seen/ev-1-0")->has_value());
  EXPECT_TRUE(store_->Get("seen/ev-0-0")->has_value());

  EXPECT_EQ(*runner_->ReplayParked(), 2);  // not fixed yet
  projection_.fixed = true;
  Reopen();
  EXPECT_EQ(*runner_->ReplayParked(), 1);  // the undecodable one stays
  EXPECT_EQ(Count(), 3);
  EXPECT_EQ(runner_->Parked(10)->size(), 1u);
  // New parked events continue the sequence after a reopen.
  ASSERT_TRUE(runner_->ApplyBatch({Event(4, "d", 1, "poison")}).ok());
  projection_.fixed = false;
  ASSERT_TRUE(runner_->ApplyBatch({Event(5, "e", 1, "poison")}).ok());
  EXPECT_EQ(runner_->Parked(10)->size(), 2u);
}

TEST_F(ProjectionRunnerTest, AnEventFromTheLogIsParkedSealedAndOpenedAgainToBeReplayed) {
  ReversingCipher cipher;
  store_->SealParkedWith(&cipher);
  Envelope from_log = Event(0, "a", 1, "poison from the log");
  from_log.source = kLogSource;
  // A topic's events arrive sealed as published; they are parked as they are.
  ASSERT_TRUE(runner_->ApplyBatch({from_log, Event(0, "b", 1, "poison")}).ok());
  auto parked = runner_->Parked(10);
  ASSERT_EQ(parked->size(), 2u);
  EXPECT_EQ((*parked)[0].event().payload(), "sealed:gol eht morf nosiop");
  EXPECT_TRUE((*parked)[0].payload_sealed());
  EXPECT_EQ((*parked)[1].event().payload(), "poison");
  EXPECT_FALSE((*parked)[1].payload_sealed());

  // When it cannot be sealed the batch fails and records nothing.
  Envelope unsealable = Event(1, "c", 1, "poison");
  unsealable.source = kLogSource;
  unsealable.event.set_tenant("unsealable");
  EXPECT_FALSE(runner_->ApplyBatch({unsealable}).ok());
  EXPECT_EQ(*runner_->Offset(kLogSource, 0), 0);
  EXPECT_EQ(runner_->Parked(10)->size(), 2u);

  // Without the cipher a sealed event cannot be opened: it stays parked.
  projection_.fixed = true;
  Reopen();
  EXPECT_EQ(*runner_->ReplayParked(), 1);
  EXPECT_EQ(projection_.payloads, std::vector<std::string>{"poison"});
  store_->SealParkedWith(&cipher);
  EXPECT_EQ(*runner_->ReplayParked(), 0);
  EXPECT_EQ(projection_.payloads, (std::vector<std::string>{"poison", "poison from the log"}));
}

TEST_F(ProjectionRunnerTest, PartitionsKeepTheirOwnOffsets) {
  ASSERT_TRUE(runner_->ApplyBatch({Event(7, "a", 1, "ok", 0), Event(2, "b", 1, "ok", 1)}).ok());
  EXPECT_EQ(*runner_->Offset("topic", 0), 7);
  EXPECT_EQ(*runner_->Offset("topic", 1), 2);
  EXPECT_EQ(*runner_->Offset("topic", 2), -1);
}

}  // namespace
}  // namespace crm::readstore

namespace crm::readstore {
namespace {

// Lists the `seen/` rows it can scan, its own batch's included.
class ScanningProjection : public Projection {
 public:
  std::string name() const override { return "scanning"; }
  absl::Status Apply(const StoredEvent& e, RowWriter& rows) override {
    rows.Put(absl::StrCat("seen/", e.event_id()), "1");
    std::vector<std::string> keys;
    auto s = rows.Scan("seen/", [&](absl::string_view key, absl::string_view) {
      keys.emplace_back(key);
      return true;
    });
    seen.push_back(keys.size());
    return s;
  }
  std::vector<size_t> seen;
};

TEST(RowWriterTest, ScanSeesCommittedRowsAndTheBatchsOwnWrites) {
  test::TempDir dir;
  auto store = *ReadStore::Open(dir.path() + "/read");
  ScanningProjection projection;
  ProjectionRunner runner(store.get(), &projection);
  ASSERT_TRUE(runner.ApplyBatch({Event(1, "s1", 1), Event(2, "s2", 1)}).ok());
  ASSERT_TRUE(runner.ApplyBatch({Event(3, "s3", 1)}).ok());
  EXPECT_EQ(projection.seen, (std::vector<size_t>{1, 2, 3}));
}

// Writes by payload: "seed" puts row/a..c, "edit" rewrites a, deletes b and
// adds d, "fail" rewrites all and fails; every event then scans row/.
class EditingProjection : public Projection {
 public:
  std::string name() const override { return "editing"; }
  absl::Status Apply(const StoredEvent& e, RowWriter& rows) override {
    if (e.payload() == "seed") {
      for (const char* key : {"row/a", "row/b", "row/c"}) rows.Put(key, "1");
    } else if (e.payload() == "edit") {
      rows.Put("row/a", "2");
      rows.Delete("row/b");
      rows.Put("row/d", "2");
    } else if (e.payload() == "fail") {
      rows.Put("row/a", "3");
      rows.Delete("row/c");
      rows.Delete("row/d");
      rows.Put("row/e", "3");
      return absl::InvalidArgumentError("cannot apply");
    }
    std::string seen;
    auto s = rows.Scan("row/", [&](absl::string_view key, absl::string_view value) {
      absl::StrAppend(&seen, key.substr(4), "=", value, " ");
      return true;
    });
    scans.push_back(seen);
    return s;
  }
  std::vector<std::string> scans;
};

TEST(RowWriterTest, BatchWritesShadowStoredRowsAndAFailedEventLeavesNone) {
  test::TempDir dir;
  auto store = *ReadStore::Open(dir.path() + "/read");
  EditingProjection projection;
  ProjectionRunner runner(store.get(), &projection);
  ASSERT_TRUE(runner.ApplyBatch({Event(1, "s1", 1, "seed")}).ok());
  ASSERT_TRUE(runner
                  .ApplyBatch({Event(2, "s1", 2, "edit"), Event(3, "s1", 3, "fail"),
                               Event(4, "s1", 4, "scan")})
                  .ok());
  // The failed event's writes were taken back, the edit's kept.
  EXPECT_EQ(projection.scans,
            (std::vector<std::string>{"a=1 b=1 c=1 ", "a=2 c=1 d=2 ", "a=2 c=1 d=2 "}));
  EXPECT_EQ(*store->Get("row/a"), "2");
  EXPECT_EQ(*store->Get("row/b"), std::nullopt);
  EXPECT_EQ(*store->Get("row/c"), "1");
  EXPECT_EQ(*store->Get("row/d"), "2");
  EXPECT_EQ(*store->Get("row/e"), std::nullopt);
  EXPECT_EQ(runner.stats().parked, 1);
}

}  // namespace
}  // namespace crm::readstore
