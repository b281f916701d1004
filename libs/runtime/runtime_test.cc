#include <cstdlib>

#include "gtest/gtest.h"
#include "libs/runtime/config.h"
#include "libs/runtime/log.h"

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

}  // namespace
}  // namespace crm::runtime
