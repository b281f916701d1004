#include "libs/eventstore/event_store.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/eventstore/actor.h"
#include "libs/testing/temp_dir.h"
#include "rocksdb/file_system.h"

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

// The local file system, except that while `full` is set every write to a
// write-ahead log fails as on a full disk, slowly enough for appends to queue
// behind the failing one.
class FillableDisk : public rocksdb::FileSystemWrapper {
 public:
  FillableDisk() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "FillableDisk"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, file, dbg);
    if (s.ok() && absl::EndsWith(name, ".log")) *file = std::make_unique<Wal>(std::move(*file), this);
    return s;
  }

  std::atomic<bool> full{false};

 private:
  class Wal : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    Wal(std::unique_ptr<rocksdb::FSWritableFile> file, FillableDisk* disk)
        : FSWritableFileOwnerWrapper(std::move(file)), disk_(disk) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
      if (disk_->full) return Full();
      return FSWritableFileOwnerWrapper::Append(data, options, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      if (disk_->full) return Full();
      return FSWritableFileOwnerWrapper::Append(data, options, info, dbg);
    }

   private:
    static rocksdb::IOStatus Full() {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      return rocksdb::IOStatus::NoSpace("no space left on device (injected)");
    }
    FillableDisk* disk_;
  };
};

// A failed group write fails every append queued behind it, each promptly
// and UNAVAILABLE (none waits forever for a leader), acknowledges none, and
// the same requests succeed, once each, when the disk has room again.
TEST(EventStoreFaultTest, AFailedGroupWriteFailsEveryQueuedAppendAndTheStoreRecovers) {
  test::TempDir dir;
  auto disk = std::make_shared<FillableDisk>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(disk);
  auto opened = EventStore::Open({.path = dir.path() + "/store", .env = env.get()});
  ASSERT_TRUE(opened.ok()) << opened.status();
  EventStore& store = **opened;
  ASSERT_TRUE(store.Append({"t", "before"}, kAnyVersion, Events(1), "before").ok());

  constexpr int kWriters = 16;
  // Every writer appends its request once, or (`until_ok`) retries it, as a
  // client does, until it succeeds: RocksDB resumes writing on its own
  // shortly after the space is back.
  auto append_all = [&](bool until_ok) {
    std::vector<std::future<absl::Status>> calls;
    for (int i = 0; i < kWriters; ++i) {
      calls.push_back(std::async(std::launch::async, [&store, i, until_ok] {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        for (;;) {
          absl::Status s =
              store.Append({"t", absl::StrCat("s", i)}, 0, Events(2), absl::StrCat("r", i))
                  .status();
          if (s.ok() || !until_ok || std::chrono::steady_clock::now() > deadline) return s;
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      }));
    }
    std::vector<absl::Status> out;
    for (auto& call : calls) {
      if (call.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
        ADD_FAILURE() << "an append never returned";
        std::abort();  // the remaining threads still use the store
      }
      out.push_back(call.get());
    }
    return out;
  };

  disk->full = true;
  for (const absl::Status& s : append_all(false)) {
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  }
  EXPECT_EQ(store.LastPosition(), 1);
  for (int i = 0; i < kWriters; ++i) {
    EXPECT_EQ(*store.StreamVersion({"t", absl::StrCat("s", i)}), 0) << i;
  }

  disk->full = false;
  for (const absl::Status& s : append_all(true)) EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(store.LastPosition(), 1 + 2 * kWriters);
  auto log = store.ReadLog(1, 100);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_EQ(log->size(), size_t(1 + 2 * kWriters));
  for (size_t i = 0; i < log->size(); ++i) EXPECT_EQ((*log)[i].position(), int64_t(i + 1));
  for (int i = 0; i < kWriters; ++i) {
    EXPECT_EQ(*store.StreamVersion({"t", absl::StrCat("s", i)}), 2) << i;
  }
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
