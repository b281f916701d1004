#ifndef CRM_LIBS_CSV_CSV_H_
#define CRM_LIBS_CSV_CSV_H_

// An incremental CSV reader (RFC 4180: comma-separated, fields optionally in
// double quotes, "" for a quote inside them, CRLF or LF line ends) for text
// that arrives in pieces, such as a streamed import.

#include <deque>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace crm {

class CsvReader {
 public:
  // Adds the next piece of text; complete rows become available from Next.
  void Feed(absl::string_view text);
  // Ends the text: a last row without a line end becomes available.
  // INVALID_ARGUMENT when a quoted field is left open.
  absl::Status Finish();
  // The next complete row, if there is one. Blank lines are skipped.
  bool Next(std::vector<std::string>* row);

 private:
  void EndField();
  void EndRow();

  std::deque<std::vector<std::string>> rows_;
  std::vector<std::string> row_;
  std::string field_;
  bool in_quotes_ = false;
  bool quote_pending_ = false;  // a quote inside quotes: an escape or the end
  bool field_started_ = false;
  bool after_cr_ = false;
};

}  // namespace crm

#endif  // CRM_LIBS_CSV_CSV_H_
