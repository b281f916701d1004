#ifndef CRM_LIBS_READSTORE_PAGE_H_
#define CRM_LIBS_READSTORE_PAGE_H_

// One page of a list read from a read store: rows of protobuf `Message`
// listed under a prefix, directly or through an index (ReadStore::ScanListed),
// filtered, at most `page_size` of them. A page reads the rows it returns
// and those its filter skips, never the rest of the list. `keep` may change
// the rows it keeps. Rows are parsed straight into `items`, a repeated field
// that a response takes over with Swap, so a page is never copied or moved
// row by row.

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "libs/readstore/read_store.h"
#include "libs/status/status.h"

namespace crm::readstore {

template <typename Message>
struct Page {
  google::protobuf::RepeatedPtrField<Message> items;
  std::string last_id;  // the next page starts after it; empty: no more
};

template <typename Message>
absl::StatusOr<Page<Message>> ReadPage(ReadStore* store, absl::string_view prefix,
                                       absl::string_view rows_prefix, absl::string_view after_id,
                                       int page_size, const std::function<bool(Message&)>& keep) {
  Page<Message> page;
  absl::Status error;
  std::string last;
  RETURN_IF_ERROR(store->ScanListed(
      prefix, rows_prefix, after_id, [&](absl::string_view id, absl::string_view value) {
        Message* m = page.items.Add();
        if (!m->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          error = absl::DataLossError(absl::StrCat("corrupt row ", id));
          return false;
        }
        if (!keep(*m)) {
          page.items.RemoveLast();
          return true;
        }
        if (page.items.size() > page_size) {  // a row after a full page: there is a next
          page.items.RemoveLast();
          page.last_id = last;
          return false;
        }
        last.assign(id.data(), id.size());
        return true;
      }));
  RETURN_IF_ERROR(error);
  return page;
}

}  // namespace crm::readstore

#endif  // CRM_LIBS_READSTORE_PAGE_H_
