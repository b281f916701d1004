#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "libs/runtime/config.h"
#include "libs/runtime/log.h"
#include "libs/runtime/server.h"
#include "libs/testing/auth.h"
#include "libs/testing/temp_dir.h"

namespace crm::runtime {
namespace {

TEST(ConfigTest, FlagsWinOverEnvironmentWhichWinsOverDefaults) {
  const char* argv[] = {"svc", "--data-dir=/flag", "--grpc-listen", "127.0.0.1:1", "--verbose"};
  auto c = Config::FromArgs(5, const_cast<char**>(argv));
  ASSERT_TRUE(c.ok());
  setenv("CRM_DATA_DIR", "/env", 1);
  setenv("CRM_METRICS_LISTEN", "127.0.0.1:9", 1);
  EXPECT_EQ(c->Get("data-dir", "/default"), "/flag");
  EXPECT_EQ(c->Get("metrics-listen", "x"), "127.0.0.1:9");
  EXPECT_EQ(c->Get("grpc-listen", "x"), "127.0.0.1:1");
  EXPECT_EQ(c->Get("verbose", "false"), "true");
  EXPECT_EQ(c->Get("missing", "d"), "d");
  unsetenv("CRM_DATA_DIR");
  unsetenv("CRM_METRICS_LISTEN");
}

TEST(ConfigTest, BadInputIsRefusedWithTheFlagName) {
  const char* bad[] = {"svc", "positional"};
  EXPECT_EQ(Config::FromArgs(2, const_cast<char**>(bad)).status().code(),
            absl::StatusCode::kInvalidArgument);
  const char* argv[] = {"svc", "--drain-seconds=soon"};
  auto c = Config::FromArgs(2, const_cast<char**>(argv));
  auto v = c->GetInt("drain-seconds", 10);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(v.status().message().find("--drain-seconds"), std::string::npos);
}

TEST(LogTest, JsonQuoteEscapes) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
}

// StartProcess with `flags` (argv[0] added).
absl::StatusOr<Process> Start(std::vector<std::string> flags) {
  flags.insert(flags.begin(), "crm-test");
  std::vector<char*> argv;
  for (auto& f : flags) argv.push_back(f.data());
  return StartProcess(static_cast<int>(argv.size()), argv.data(), "test");
}

TEST(StartProcessTest, RefusesToStartWithoutTokenKeys) {
  test::TempDir dir;
  auto none = Start({"--data-dir=" + dir.path()});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(none.status().message().find("--auth-keys"), std::string::npos);
  auto missing = Start({"--data-dir=" + dir.path(), "--auth-keys=" + dir.path() + "/nope"});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(StartProcessTest, VerifiesTokensWithTheKeysAndSignsServiceTokens) {
  test::TempDir dir;
  auto p = Start({"--data-dir=" + dir.path(), test::TestKeyFlag(dir.path())});
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_NE(p->tokens, nullptr);
  // What the process signs, the test verifier (same secret) accepts.
  auth::Verifier::Options options;
  options.keys = {test::TestKey()};
  auto id = auth::Verifier(options).Verify(p->tokens->For("acme", "rep-1"), absl::Now());
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->user, "test");
  EXPECT_EQ(id->acting_user, "rep-1");
}

// Takes two locks in one order, then in the other: a cycle in abseil's
// lock-order graph.
void InvertLockOrder() {
  absl::Mutex a, b;
  {
    absl::MutexLock first(&a);
    absl::MutexLock second(&b);
  }
  {
    absl::MutexLock first(&b);
    absl::MutexLock second(&a);
  }
}

TEST(StartProcessDeathTest, ChecksLockOrderOnlyWhereTestsAskForIt) {
  test::TempDir dir;
  const std::vector<std::string> flags = {"--data-dir=" + dir.path(),
                                          test::TestKeyFlag(dir.path())};
  unsetenv("CRM_LOCK_ORDER_CHECK");
  ASSERT_TRUE(Start(flags).ok());
  InvertLockOrder();  // a serving process does not pay for the check
  setenv("CRM_LOCK_ORDER_CHECK", "1", 1);
  ASSERT_TRUE(Start(flags).ok());
  EXPECT_DEATH(InvertLockOrder(), "deadlock");
  unsetenv("CRM_LOCK_ORDER_CHECK");
}

}  // namespace
}  // namespace crm::runtime
