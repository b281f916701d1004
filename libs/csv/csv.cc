#include "libs/csv/csv.h"

namespace crm {

void CsvReader::EndField() {
  row_.push_back(std::move(field_));
  field_.clear();
  field_started_ = false;
}

void CsvReader::EndRow() {
  EndField();
  if (!(row_.size() == 1 && row_[0].empty())) rows_.push_back(std::move(row_));
  row_.clear();
}

void CsvReader::Feed(absl::string_view text) {
  for (char c : text) {
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') continue;
    }
    if (in_quotes_) {
      if (quote_pending_) {
        quote_pending_ = false;
        if (c == '"') {
          field_.push_back('"');
          continue;
        }
        in_quotes_ = false;  // the closing quote; `c` is handled below
      } else if (c == '"') {
        quote_pending_ = true;
        continue;
      } else {
        field_.push_back(c);
        continue;
      }
    }
    switch (c) {
      case ',':
        EndField();
        break;
      case '\r':
        after_cr_ = true;
        EndRow();
        break;
      case '\n':
        EndRow();
        break;
      case '"':
        if (!field_started_) {
          in_quotes_ = true;
          field_started_ = true;
          break;
        }
        field_.push_back(c);
        break;
      default:
        field_started_ = true;
        field_.push_back(c);
    }
  }
}

absl::Status CsvReader::Finish() {
  if (in_quotes_ && quote_pending_) in_quotes_ = false;
  if (in_quotes_) return absl::InvalidArgumentError("a quoted field is not closed");
  if (field_started_ || !field_.empty() || !row_.empty()) EndRow();
  return absl::OkStatus();
}

bool CsvReader::Next(std::vector<std::string>* row) {
  if (rows_.empty()) return false;
  *row = std::move(rows_.front());
  rows_.pop_front();
  return true;
}

}  // namespace crm
