#include "libs/eventstore/event_store.h"

#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/eventstore/actor.h"
#include "libs/testing/temp_dir.h"

namespace crm::eventstore {
namespace {

std::vector<NewEvent> Events(int n, absl::string_view tag = "e") {
  std::vector<NewEvent> out;
  for (int i = 0; i < n; ++i) out.push_back({"test.Event", absl::StrCat(tag, i)});
  return out;
}

class EventStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    store_.reset();
    auto s = EventStore::Open({.path = dir_.path() + "/store"});
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
  test::TempDir dir_;
  std::unique_ptr<EventStore> store_;
};

TEST_F(EventStoreTest, AppendAssignsVersionsAndPositions) {
  auto r1 = store_->Append({"t1", "a"}, kNoStream, Events(2), "req-1");
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_EQ(r1->first_version(), 1);
  EXPECT_EQ(r1->last_version(), 2);
  EXPECT_EQ(r1->first_position(), 1);
  auto r2 = store_->Append({"t1", "b"}, kNoStream, Events(1), "req-2");
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->first_position(), 3);
  EXPECT_EQ(store_->LastPosition(), 3);

  auto stream = store_->ReadStream({"t1", "a"});
  ASSERT_TRUE(stream.ok());
  ASSERT_EQ(stream->size(), 2u);
  EXPECT_EQ((*stream)[1].payload(), "e1");
  EXPECT_EQ((*stream)[1].version(), 2);
  EXPECT_FALSE((*stream)[0].event_id().empty());
  EXPECT_NE((*stream)[0].event_id(), (*stream)[1].event_id());
}

TEST_F(EventStoreTest, EveryEventRecordsWhoItWasMadeFor) {
  SetCallActor("rep-1", "");
  ASSERT_TRUE(store_->Append({"t1", "a"}, kNoStream, Events(1), "by-rep").ok());
  SetCallActor("rep-2", "lead");
  ASSERT_TRUE(store_->Append({"t1", "a"}, 1, Events(1), "by-lead-for-rep").ok());
  // Another thread never named an actor: the platform's own rules.
  std::thread([&] {
    ASSERT_TRUE(store_->Append({"t1", "a"}, 2, Events(1), "by-rule").ok());
  }).join();
  SetCallActor("", "");
  auto stream = store_->ReadStream({"t1", "a"});
  ASSERT_TRUE(stream.ok());
  ASSERT_EQ(stream->size(), 3u);
  EXPECT_EQ((*stream)[0].actor(), "rep-1");
  EXPECT_EQ((*stream)[0].actor_service(), "");
  EXPECT_EQ((*stream)[1].actor(), "rep-2");
  EXPECT_EQ((*stream)[1].actor_service(), "lead");
  EXPECT_EQ((*stream)[2].actor(), "system");
}

TEST_F(EventStoreTest, WrongExpectedVersionIsAborted) {
  ASSERT_TRUE(store_->Append({"t1", "a"}, kNoStream, Events(1), "r1").ok());
  auto again = store_->Append({"t1", "a"}, kNoStream, Events(1), "r2");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(store_->Append({"t1", "a"}, 1, Events(1), "r3").ok());
  EXPECT_TRUE(store_->Append({"t1", "a"}, kAnyVersion, Events(1), "r4").ok());
  EXPECT_EQ(*store_->StreamVersion({"t1", "a"}), 3);
}

TEST_F(EventStoreTest, RetriedRequestIdReturnsFirstReceiptAndAppendsNothing) {
  auto first = store_->Append({"t1", "a"}, kNoStream, Events(1), "same");
  ASSERT_TRUE(first.ok());
  auto retry = store_->Append({"t1", "a"}, kNoStream, Events(3), "same");
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->SerializeAsString(), first->SerializeAsString());
  EXPECT_EQ(store_->LastPosition(), 1);
  EXPECT_EQ(store_->stats().deduplicated, 1);
  // Request ids are per tenant.
  EXPECT_TRUE(store_->Append({"t2", "a"}, kNoStream, Events(1), "same").ok());
  EXPECT_TRUE(store_->FindRequest("t1", "same")->has_value());
  EXPECT_FALSE(store_->FindRequest("t1", "other")->has_value());
}

TEST_F(EventStoreTest, TenantsHaveSeparateStreams) {
  ASSERT_TRUE(store_->Append({"t1", "a"}, kNoStream, Events(2), "r1").ok());
  EXPECT_EQ(store_->ReadStream({"t2", "a"})->size(), 0u);
  EXPECT_EQ(*store_->StreamVersion({"t2", "a"}), 0);
}

TEST_F(EventStoreTest, BadArgumentsNameTheField) {
  auto s = store_->Append({"", "a"}, kNoStream, {}, "");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("tenant"), std::string::npos);
  EXPECT_NE(s.status().message().find("request_id"), std::string::npos);
  EXPECT_NE(s.status().message().find("events"), std::string::npos);
  auto nul = store_->Append({"t", std::string("a\0b", 3)}, kNoStream, Events(1), "r");
  EXPECT_EQ(nul.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->LastPosition(), 0);
}

TEST_F(EventStoreTest, ReopenKeepsEverything) {
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(
        store_
            ->Append({"t1", absl::StrCat("s", i % 3)}, kAnyVersion, Events(2), absl::StrCat("r", i))
            .ok());
  }
  ASSERT_TRUE(store_->PutMeta("cursor", "17").ok());
  Reopen();
  EXPECT_EQ(store_->LastPosition(), 40);
  EXPECT_EQ(*store_->StreamVersion({"t1", "s0"}), 14);
  EXPECT_EQ(**store_->GetMeta("cursor"), "17");
  // A request id survives the reopen.
  auto retry = store_->Append({"t1", "s0"}, kAnyVersion, Events(1), "r3");
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(store_->LastPosition(), 40);
  auto next = store_->Append({"t1", "s0"}, 14, Events(1), "r-new");
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->first_position(), 41);
  auto log = store_->ReadLog(1, 1000);
  ASSERT_EQ(log->size(), 41u);
  for (size_t i = 0; i < log->size(); ++i) EXPECT_EQ((*log)[i].position(), int64_t(i + 1));
}

TEST_F(EventStoreTest, CompactKeepsEverything) {
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(
        store_
            ->Append({"t1", absl::StrCat("s", i % 4)}, kAnyVersion, Events(3), absl::StrCat("r", i))
            .ok());
  }
  ASSERT_TRUE(store_->Compact().ok());
  Reopen();
  ASSERT_TRUE(store_->Compact().ok());
  EXPECT_EQ(store_->LastPosition(), 60);
  EXPECT_EQ(*store_->StreamVersion({"t1", "s1"}), 15);
  EXPECT_EQ(store_->ReadStream({"t1", "s2"})->size(), 15u);
  auto retry = store_->Append({"t1", "s0"}, kAnyVersion, Events(1), "r7");
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->stream_id(), "s3");
  EXPECT_EQ(store_->LastPosition(), 60);
}

TEST_F(EventStoreTest, ReadLogPagesFromAPosition) {
  ASSERT_TRUE(store_->Append({"t", "a"}, kNoStream, Events(5), "r").ok());
  auto page = store_->ReadLog(2, 2);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].position(), 2);
  EXPECT_EQ((*page)[1].position(), 3);
  EXPECT_TRUE(store_->WaitForPosition(5, absl::ZeroDuration()));
  EXPECT_FALSE(store_->WaitForPosition(6, absl::Milliseconds(1)));
}

// Many threads append to shared and private streams with optimistic retries;
// afterwards every stream has versions 1..n with no gap or duplicate, the log is
// gap-free, and concurrent appends shared syncs.
TEST_F(EventStoreTest, ConcurrentAppendsLoseAndDuplicateNothing) {
  constexpr int kThreads = 8, kPerThread = 150;
  std::atomic<int64_t> shared_appended{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Private stream: expected version is known.
        auto own = store_->Append({"t", absl::StrCat("own-", t)}, i, Events(1),
                                  absl::StrCat("own-", t, "-", i));
        ASSERT_TRUE(own.ok()) << own.status();
        // Shared stream: read-decide-append, retrying on ABORTED.
        for (;;) {
          int64_t v = *store_->StreamVersion({"t", "shared"});
          auto r = store_->Append({"t", "shared"}, v, Events(1, absl::StrCat(t, "-", i, "-")),
                                  absl::StrCat("shared-", t, "-", i));
          if (r.ok()) {
            ++shared_appended;
            break;
          }
          ASSERT_EQ(r.status().code(), absl::StatusCode::kAborted) << r.status();
        }
      }
    });
  }
  for (auto& th : threads) th.join();

  EXPECT_EQ(shared_appended.load(), kThreads * kPerThread);
  auto shared = store_->ReadStream({"t", "shared"});
  ASSERT_EQ(shared->size(), size_t(kThreads * kPerThread));
  std::set<std::string> payloads;
  for (size_t i = 0; i < shared->size(); ++i) {
    EXPECT_EQ((*shared)[i].version(), int64_t(i + 1));
    payloads.insert((*shared)[i].payload());
  }
  EXPECT_EQ(payloads.size(), shared->size());
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(*store_->StreamVersion({"t", absl::StrCat("own-", t)}), kPerThread);
  }
  const int64_t total = 2 * kThreads * kPerThread;
  EXPECT_EQ(store_->LastPosition(), total);
  auto log = store_->ReadLog(1, total + 10);
  ASSERT_EQ(log->size(), size_t(total));
  for (size_t i = 0; i < log->size(); ++i) EXPECT_EQ((*log)[i].position(), int64_t(i + 1));
  EventStoreStats st = store_->stats();
  EXPECT_EQ(st.appends, total);
  EXPECT_LE(st.syncs, st.appends);

  Reopen();
  EXPECT_EQ(store_->LastPosition(), total);
  EXPECT_EQ(store_->ReadStream({"t", "shared"})->size(), size_t(kThreads * kPerThread));
}

// The same request id sent by several threads at once appends exactly once.
TEST_F(EventStoreTest, ConcurrentRetriesOfOneRequestAppendOnce) {
  std::vector<std::thread> threads;
  std::vector<AppendReceipt> receipts(8);
  std::atomic<int> appended{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::vector<StreamAppend> appends;
      appends.push_back({{"t", "x"}, kAnyVersion, Events(1)});
      bool replayed = true;
      auto r = store_->AppendMany(std::move(appends), "one-request", &replayed);
      ASSERT_TRUE(r.ok());
      receipts[t] = r->front();
      if (!replayed) ++appended;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(store_->LastPosition(), 1);
  for (const auto& r : receipts) EXPECT_EQ(r.first_position(), 1);
  // Exactly one call appended; the others say theirs was a replay.
  EXPECT_EQ(appended.load(), 1);
}

TEST_F(EventStoreTest, AppendManyIsAllOrNothing) {
  ASSERT_TRUE(store_->Append({"t", "customer-1"}, kNoStream, Events(1), "c1").ok());
  // Both streams at their expected versions: both appended, positions contiguous.
  std::vector<StreamAppend> ok;
  ok.push_back({{"t", "customer-1"}, 1, Events(1)});
  ok.push_back({{"t", "pool-rep-1"}, kNoStream, Events(2)});
  auto receipts = store_->AppendMany(std::move(ok), "claim-1");
  ASSERT_TRUE(receipts.ok()) << receipts.status();
  ASSERT_EQ(receipts->size(), 2u);
  EXPECT_EQ((*receipts)[0].last_version(), 2);
  EXPECT_EQ((*receipts)[1].first_position(), 3);
  EXPECT_EQ((*receipts)[1].last_position(), 4);

  // One stream moved: nothing is appended to either.
  std::vector<StreamAppend> stale;
  stale.push_back({{"t", "customer-1"}, 2, Events(1)});
  stale.push_back({{"t", "pool-rep-1"}, 1, Events(1)});
  auto refused = store_->AppendMany(std::move(stale), "claim-2");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kAborted);
  EXPECT_NE(refused.status().message().find("pool-rep-1"), std::string::npos);
  EXPECT_EQ(store_->LastPosition(), 4);
  EXPECT_EQ(*store_->StreamVersion({"t", "customer-1"}), 2);

  // A retry returns every receipt of the first call.
  std::vector<StreamAppend> retry;
  retry.push_back({{"t", "customer-1"}, 1, Events(1)});
  auto again = store_->AppendMany(std::move(retry), "claim-1");
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), 2u);
  EXPECT_EQ((*again)[1].stream_id(), "pool-rep-1");

  Reopen();
  EXPECT_EQ(*store_->StreamVersion({"t", "pool-rep-1"}), 2);
  EXPECT_EQ((*store_->FindRequest("t", "claim-1"))->stream_id(), "customer-1");
}

TEST_F(EventStoreTest, AppendManyRefusesMixedTenantsAndRepeatedStreams) {
  std::vector<StreamAppend> mixed;
  mixed.push_back({{"t1", "a"}, kAnyVersion, Events(1)});
  mixed.push_back({{"t2", "b"}, kAnyVersion, Events(1)});
  EXPECT_EQ(store_->AppendMany(std::move(mixed), "r").status().code(),
            absl::StatusCode::kInvalidArgument);
  std::vector<StreamAppend> twice;
  twice.push_back({{"t1", "a"}, kAnyVersion, Events(1)});
  twice.push_back({{"t1", "a"}, kAnyVersion, Events(1)});
  EXPECT_EQ(store_->AppendMany(std::move(twice), "r").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->LastPosition(), 0);
}

}  // namespace
}  // namespace crm::eventstore
