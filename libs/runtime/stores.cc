#include "libs/runtime/stores.h"

#include "libs/status/status.h"

namespace crm::runtime {

absl::StatusOr<Stores> OpenStores(const Process& process, eventstore::PayloadCipher* cipher) {
  Stores stores;
  ASSIGN_OR_RETURN(
      stores.events,
      eventstore::EventStore::Open(
          {.path = process.data_dir + "/events", .cipher = cipher, .clock = process.clock}));
  ASSIGN_OR_RETURN(stores.read, readstore::ReadStore::Open(process.data_dir + "/read"));
  stores.read->SealParkedWith(cipher);
  return stores;
}

}  // namespace crm::runtime
