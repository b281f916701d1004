#ifndef CRM_SERVICES_CONTRACT_APP_CONTRACT_COMMANDS_H_
#define CRM_SERVICES_CONTRACT_APP_CONTRACT_COMMANDS_H_

// Command handlers of the contract service: load, decide, append with the
// version decided on, and decide again when another command moved the
// stream first. Every command is idempotent on its request id. The tenant's
// approval rules and templates live in its `contract-setup` stream.
// Thread-safe.

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/clock/clock.h"
#include "libs/eventstore/event_store.h"
#include "services/contract/domain/contract.h"

namespace crm::contract {

inline constexpr char kSetupStreamId[] = "contract-setup";

struct Setup {
  int64_t version = 0;
  ev::ApprovalRules rules;
  std::map<std::string, ev::ContractTemplate> templates;
};

class ContractCommandHandler {
 public:
  ContractCommandHandler(eventstore::EventStore* store, Clock* clock)
      : store_(store), clock_(clock) {}

  // cmd.contract_id, cmd.now and cmd.terms (from `terms`) are set here. A
  // request id seen before returns the contract that request created.
  absl::StatusOr<Contract> Create(const std::string& tenant, const std::string& request_id,
                                  contract::Create cmd, const TermsInput& terms);
  // NOT_FOUND when there is none.
  absl::StatusOr<Contract> Get(const std::string& tenant, const std::string& contract_id);

  absl::StatusOr<Contract> Change(const std::string& tenant, const std::string& request_id,
                                  const std::string& id, const TermsInput& terms,
                                  const std::string& user);
  absl::StatusOr<Contract> Submit(const std::string& tenant, const std::string& request_id,
                                  const std::string& id, const std::string& user);
  absl::StatusOr<Contract> Approve(const std::string& tenant, const std::string& request_id,
                                   const std::string& id, const std::string& user,
                                   const std::set<std::string>& roles, const std::string& comment);
  absl::StatusOr<Contract> Reject(const std::string& tenant, const std::string& request_id,
                                  const std::string& id, const std::string& user,
                                  const std::set<std::string>& roles, const std::string& comment);
  absl::StatusOr<Contract> Send(const std::string& tenant, const std::string& request_id,
                                const std::string& id, const std::string& user);
  absl::StatusOr<Contract> Confirm(const std::string& tenant, const std::string& request_id,
                                   const std::string& id, const std::string& user);
  absl::StatusOr<Contract> End(const std::string& tenant, const std::string& request_id,
                               const std::string& id, ev::EndReason reason, const std::string& note,
                               const std::string& user);
  absl::StatusOr<Contract> SetPaymentPlan(const std::string& tenant, const std::string& request_id,
                                          const std::string& id,
                                          const std::vector<PlannedInstallment>& plan,
                                          const std::string& user);
  // `received` InfinitePast: now.
  absl::StatusOr<Contract> RecordPayment(const std::string& tenant, const std::string& request_id,
                                         const std::string& id, int64_t amount, absl::Time received,
                                         const std::string& user);

  absl::StatusOr<Contract> AddMilestone(const std::string& tenant, const std::string& request_id,
                                        const std::string& id, const NewMilestone& m,
                                        const std::string& user,
                                        const std::set<std::string>& roles);
  absl::StatusOr<Contract> CompleteMilestone(const std::string& tenant,
                                             const std::string& request_id, const std::string& id,
                                             const std::string& milestone_id,
                                             const std::string& note, ev::FollowUpKind follow_up,
                                             int32_t follow_up_after_days, const std::string& user,
                                             const std::set<std::string>& roles);
  // Gives the notices due now (DueNotices); `version` is the one the notice
  // index saw, so a retry after a crash acts once. Returns how many.
  absl::StatusOr<int> GiveNotices(const std::string& tenant, const std::string& id,
                                  int64_t version);

  absl::StatusOr<Setup> GetSetup(const std::string& tenant);
  absl::StatusOr<ev::ContractTemplate> SaveTemplate(const std::string& tenant,
                                                    const std::string& request_id,
                                                    const ev::ContractTemplate& t,
                                                    const std::string& user);
  absl::StatusOr<ev::ApprovalRules> UpdateRules(const std::string& tenant,
                                                const std::string& request_id,
                                                const ev::ApprovalRules& rules,
                                                const std::string& user);
  Clock* clock() const { return clock_; }

 private:
  using DecideFn = std::function<absl::StatusOr<std::vector<ContractEvent>>(const Contract&)>;
  absl::StatusOr<Contract> Execute(const std::string& tenant, const std::string& request_id,
                                   const std::string& id, const DecideFn& decide);
  absl::StatusOr<Contract> Load(const std::string& tenant, const std::string& id);
  absl::StatusOr<ev::ContractTerms> Terms(const std::string& tenant, const TermsInput& in);
  absl::Status AppendSetup(const std::string& tenant, const std::string& request_id,
                           const ev::ContractSetupEvent& event);

  eventstore::EventStore* store_;
  Clock* clock_;
};

}  // namespace crm::contract

#endif  // CRM_SERVICES_CONTRACT_APP_CONTRACT_COMMANDS_H_
