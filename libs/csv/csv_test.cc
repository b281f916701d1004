#include "libs/csv/csv.h"

#include "gtest/gtest.h"

namespace crm {
namespace {

std::vector<std::vector<std::string>> ReadAll(const std::vector<std::string>& pieces,
                                              absl::Status* finish = nullptr) {
  CsvReader r;
  for (const auto& p : pieces) r.Feed(p);
  absl::Status s = r.Finish();
  if (finish) *finish = s;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  while (r.Next(&row)) rows.push_back(row);
  return rows;
}

TEST(CsvReaderTest, QuotesEscapesAndLineEnds) {
  auto rows = ReadAll({"a,b,c\r\n", "\"x, y\",\"say \"\"hi\"\"\",\n\n", "last,\"multi\nline\""});
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"x, y", "say \"hi\"", ""}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"last", "multi\nline"}));
}

TEST(CsvReaderTest, RowsSplitAcrossPiecesAnywhere) {
  const std::string text = "id,name\n1,\"Acme, \"\"Inc\"\"\"\r\n2,Globex\n";
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    auto rows = ReadAll({text.substr(0, cut), text.substr(cut)});
    ASSERT_EQ(rows.size(), 3u) << cut;
    EXPECT_EQ(rows[1][1], "Acme, \"Inc\"") << cut;
    EXPECT_EQ(rows[2][1], "Globex") << cut;
  }
}

TEST(CsvReaderTest, AnOpenQuoteIsAnError) {
  absl::Status s;
  ReadAll({"a,\"never closed\n"}, &s);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace crm
