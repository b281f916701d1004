#ifndef CRM_SERVICES_OPPORTUNITY_DOMAIN_OPPORTUNITY_H_
#define CRM_SERVICES_OPPORTUNITY_DOMAIN_OPPORTUNITY_H_

// The opportunity aggregate: pure decisions and state changes, no I/O.
// "The system judges, a person advances": every move is a command; the
// domain checks the target stage's entry conditions against what the
// opportunity records (need, lines, quote) and what the customer topic
// says (key person, demo meeting).

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/status/status.h"
#include "services/opportunity/domain/catalog.h"

namespace crm::opportunity {

using OpportunityEvent = ev::OpportunityEvent;

enum class State { kNone, kOpen, kLossPending, kWon, kLost };

struct StageVisit {
  std::string stage_id;
  absl::Time enter_time;
  std::string by;
};

struct Opportunity {
  std::string id;
  int64_t version = 0;
  State state = State::kNone;
  ev::OpportunityCreated created;
  std::string stage_id;
  int32_t stage_probability = 0;  // the stage default when entered
  std::vector<StageVisit> history;
  absl::Time expected_close = absl::InfinitePast();
  std::vector<ev::Line> lines;
  int64_t amount = 0;
  std::string need;
  bool quote_sent = false;
  int64_t quoted_amount = 0;
  ev::ForecastCategory category = ev::FORECAST_CATEGORY_UNSPECIFIED;  // set by hand
  ev::LossReason loss_reason = ev::LOSS_REASON_UNSPECIFIED;
  std::string contract_id;
  absl::Time close_time = absl::InfinitePast();

  bool exists() const { return version > 0; }
  const std::string& owner() const { return created.owner_id(); }
};

Opportunity Evolve(Opportunity o, const OpportunityEvent& event);

// What the customer topic says about the opportunity's customer.
struct CustomerFacts {
  bool known = false;
  std::string owner;
  bool key_person = false;
  bool demo_touch = false;
};

struct Create {
  std::string opportunity_id;
  std::string customer_id;
  std::string name;
  std::string team_id;
  std::string pipeline_id;
  absl::Time expected_close = absl::InfinitePast();
  std::vector<ev::Line> lines;  // priced
  std::string need;
  std::string user;
  absl::Time now;
};

// NOT_FOUND when the customer is unknown; CUSTOMER_NOT_OWNED unless the
// caller owns it; INVALID_ARGUMENT for a bad name, pipeline or close time.
absl::StatusOr<OpportunityEvent> Decide(const Opportunity& o, const Create& cmd,
                                        const CustomerFacts& customer, const Settings& settings);

absl::StatusOr<OpportunityEvent> SetLines(const Opportunity& o, std::vector<ev::Line> lines,
                                          const std::string& user, absl::Time now);
absl::StatusOr<OpportunityEvent> RecordNeed(const Opportunity& o, const std::string& need,
                                            const std::string& user, absl::Time now);
// Needs lines (NO_LINES).
absl::StatusOr<OpportunityEvent> SendQuote(const Opportunity& o, const std::string& quote_id,
                                           const std::string& user, absl::Time now);
// Either may be unset (InfinitePast / UNSPECIFIED); CLOSED is refused.
absl::StatusOr<std::vector<OpportunityEvent>> UpdateForecast(const Opportunity& o,
                                                             absl::Time expected_close,
                                                             ev::ForecastCategory category,
                                                             const std::string& user,
                                                             absl::Time now);

// The unmet entry conditions of every stage after the current one up to
// and including `stage_id` (moving back checks none).
std::vector<Unmet> UnmetConditions(const Opportunity& o, const ev::Pipeline& pipeline,
                                   const std::string& stage_id, const CustomerFacts& customer);
// STAGE_CONDITIONS_UNMET lists every unmet condition; INVALID_ARGUMENT for a
// stage not in the pipeline; nothing for the current stage.
absl::StatusOr<std::vector<OpportunityEvent>> Advance(const Opportunity& o,
                                                      const std::string& stage_id,
                                                      const CustomerFacts& customer,
                                                      const Settings& settings,
                                                      const std::string& user, absl::Time now);

absl::StatusOr<OpportunityEvent> RequestCloseLost(const Opportunity& o, ev::LossReason reason,
                                                  const std::string& note, const std::string& user,
                                                  absl::Time now);
// Only a manager (PERMISSION_DENIED); only a pending request
// (NO_CLOSE_LOST_REQUEST).
absl::StatusOr<OpportunityEvent> DecideCloseLost(const Opportunity& o, bool approve,
                                                 const std::string& comment, bool manager,
                                                 const std::string& user, absl::Time now);

// Whether `user` may close the opportunity as won (its owner, open, with
// lines); checked before the contract is asked for.
absl::Status CheckWinnable(const Opportunity& o, const std::string& user);
absl::StatusOr<OpportunityEvent> Win(const Opportunity& o, const std::string& contract_id,
                                     const std::string& user, absl::Time now);

// The forecast category: won deals are CLOSED; else the one set by hand;
// else by probability (commit from 80%, best case from 40%, else pipeline).
ev::ForecastCategory CategoryOf(const Opportunity& o, int32_t probability);

}  // namespace crm::opportunity

#endif  // CRM_SERVICES_OPPORTUNITY_DOMAIN_OPPORTUNITY_H_
