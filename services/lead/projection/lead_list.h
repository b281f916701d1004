#ifndef CRM_SERVICES_LEAD_PROJECTION_LEAD_LIST_H_
#define CRM_SERVICES_LEAD_PROJECTION_LEAD_LIST_H_

// The lead read model, fed from the service's own log. After every event of
// a lead it holds, from the lead's current stream:
//   `<tenant>\0lead\0<lead>`             -> v1::Lead as GetLead shows it
//   `<tenant>\0prio\0<rank>\0<lead>`     -> "" for open leads, grade then score
//   `<tenant>\0lmatch\0<key>\0<lead>`    -> "" for open leads' match keys
//   `<tenant>\0owned\0<owner>\0<lead>`   -> "" for leads with an owner
//   `~lead-due\0<time>\0<tenant>\0<lead>` -> "" for assigned leads' deadlines
//   `~lead-queued\0<tenant>\0<lead>`     -> "" for queued leads
//   `<tenant>\0channel\0<channel>`       -> v1::Channel
// plus per-lead bookkeeping rows to remove the old index entries.

#include <string>
#include <vector>

#include "crm/lead/v1/lead_service.pb.h"
#include "libs/eventstore/event_store.h"
#include "libs/readstore/projection_runner.h"
#include "services/lead/domain/lead.h"

namespace crm::lead {

// The lead as the API shows it.
void ToProto(const Lead& lead, v1::Lead* out);
void ToProto(const ev::ChannelSaved& channel, v1::Channel* out);

class LeadListProjection : public readstore::Projection {
 public:
  explicit LeadListProjection(eventstore::EventStore* store) : store_(store) {}
  std::string name() const override { return "lead_list"; }
  absl::Status Apply(const readstore::StoredEvent& event, readstore::RowWriter& rows) override;

 private:
  eventstore::EventStore* store_;
};

struct LeadFilter {
  v1::LeadState state = v1::LEAD_STATE_UNSPECIFIED;
  std::string owner;
  bool by_priority = false;
};

struct LeadPage {
  std::vector<v1::Lead> leads;
  std::string last_key;  // resume after this row key suffix; empty: no more
};

// Up to `page_size` leads matching `filter` after the row `after` (from a
// previous page's last_key).
// Adds the owner index entries of leads stored before the index existed,
// once per read store; call before the projection runs.
absl::Status IndexStoredLeads(readstore::ReadStore* store);

absl::StatusOr<LeadPage> ListLeads(readstore::ReadStore* store, const std::string& tenant,
                                   const LeadFilter& filter, int page_size,
                                   const std::string& after);

// Open leads sharing any of `keys`, with the kinds they share, in id order.
absl::StatusOr<std::vector<ev::LeadMatch>> FindLeadMatches(readstore::ReadStore* store,
                                                           const std::string& tenant,
                                                           const std::vector<std::string>& keys,
                                                           int limit = 20);

absl::StatusOr<std::vector<v1::Channel>> ListChannels(readstore::ReadStore* store,
                                                      const std::string& tenant);

// (tenant, lead) of assigned leads whose work deadline is before `now`.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> DueLeads(
    readstore::ReadStore* store, absl::Time now, int limit = 1000);
// (tenant, lead) of queued leads in (tenant, lead) order, after
// `after` (`<tenant>\0<lead>`; empty: from the first).
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> QueuedLeads(
    readstore::ReadStore* store, const std::string& after = "", int limit = 1000);

}  // namespace crm::lead

#endif  // CRM_SERVICES_LEAD_PROJECTION_LEAD_LIST_H_
