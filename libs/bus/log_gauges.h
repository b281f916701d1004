#ifndef CRM_LIBS_BUS_LOG_GAUGES_H_
#define CRM_LIBS_BUS_LOG_GAUGES_H_

// The gauges every service exports about its own log and its relay.

#include "libs/bus/relay.h"
#include "libs/eventstore/event_store.h"
#include "libs/runtime/server.h"

namespace crm::bus {

inline void AddLogGauges(runtime::Server& server, eventstore::EventStore* es, const Relay& relay) {
  server.AddGauge("crm_eventstore_appends", "Appends acknowledged since start.",
                  [es] { return double(es->stats().appends); });
  server.AddGauge("crm_eventstore_syncs", "Durable group writes since start.",
                  [es] { return double(es->stats().syncs); });
  server.AddGauge("crm_eventstore_last_position", "Position of the last durable event.",
                  [es] { return double(es->LastPosition()); });
  server.AddGauge("crm_relay_lag_events", "Events appended but not yet acknowledged by Kafka.",
                  [&relay] { return double(relay.lag()); });
}

}  // namespace crm::bus

#endif  // CRM_LIBS_BUS_LOG_GAUGES_H_
