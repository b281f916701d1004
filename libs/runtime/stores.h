#ifndef CRM_LIBS_RUNTIME_STORES_H_
#define CRM_LIBS_RUNTIME_STORES_H_

// A service's two RocksDB stores under its data directory: the event store
// (<data-dir>/events, on the process's clock) and the read store
// (<data-dir>/read).

#include <memory>

#include "absl/status/statusor.h"
#include "libs/eventstore/event_store.h"
#include "libs/readstore/read_store.h"
#include "libs/runtime/server.h"

namespace crm::runtime {

struct Stores {
  std::unique_ptr<eventstore::EventStore> events;
  std::unique_ptr<readstore::ReadStore> read;
};

// `cipher`: seals personal fields in the events (services that keep
// personal data pass their key store); null stores payloads as given.
absl::StatusOr<Stores> OpenStores(const Process& process,
                                  eventstore::PayloadCipher* cipher = nullptr);

}  // namespace crm::runtime

#endif  // CRM_LIBS_RUNTIME_STORES_H_
