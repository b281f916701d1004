#include "services/contract/app/contract_commands.h"

#include "absl/strings/str_cat.h"
#include "libs/clock/timestamp.h"
#include "libs/eventstore/codec.h"
#include "libs/eventstore/ids.h"
#include "libs/status/status.h"

namespace crm::contract {
namespace {

constexpr int kMaxAttempts = 16;

}  // namespace

absl::StatusOr<Contract> ContractCommandHandler::Load(const std::string& tenant,
                                                      const std::string& id) {
  ASSIGN_OR_RETURN(auto stored, store_->ReadStream({tenant, id}));
  Contract c;
  c.id = id;
  for (const auto& e : stored) {
    ContractEvent event;
    RETURN_IF_ERROR(eventstore::FromStored(e.type(), e.payload(), &event));
    c = Evolve(std::move(c), event);
  }
  return c;
}

absl::StatusOr<Contract> ContractCommandHandler::Get(const std::string& tenant,
                                                     const std::string& contract_id) {
  ASSIGN_OR_RETURN(Contract c, Load(tenant, contract_id));
  if (!c.exists()) return absl::NotFoundError("contract " + contract_id + " does not exist");
  return c;
}

absl::StatusOr<Contract> ContractCommandHandler::Execute(const std::string& tenant,
                                                         const std::string& request_id,
                                                         const std::string& id,
                                                         const DecideFn& decide) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ASSIGN_OR_RETURN(auto seen, store_->FindRequest(tenant, request_id));
    if (seen) return Get(tenant, id);
    ASSIGN_OR_RETURN(Contract c, Load(tenant, id));
    auto decided = decide(c);
    if (!decided.ok()) {
      RETURN_IF_ERROR(
          eventstore::AppendedMeanwhileOr(*store_, tenant, request_id, decided.status()));
      return Get(tenant, id);
    }
    auto events = *std::move(decided);
    if (events.empty()) return Get(tenant, id);
    std::vector<eventstore::NewEvent> encoded;
    for (const auto& e : events) {
      ASSIGN_OR_RETURN(auto ne, eventstore::ToNewEvent(e));
      encoded.push_back(std::move(ne));
    }
    auto receipt = store_->Append({tenant, id}, c.version, std::move(encoded), request_id);
    if (receipt.status().code() == absl::StatusCode::kAborted) continue;
    RETURN_IF_ERROR(receipt.status());
    return Get(tenant, id);
  }
  return absl::AbortedError("contract " + id + " is changing too fast; retry");
}

absl::StatusOr<Setup> ContractCommandHandler::GetSetup(const std::string& tenant) {
  ASSIGN_OR_RETURN(auto stored, store_->ReadStream({tenant, kSetupStreamId}));
  Setup setup;
  for (const auto& e : stored) {
    ev::ContractSetupEvent event;
    RETURN_IF_ERROR(eventstore::FromStored(e.type(), e.payload(), &event));
    ++setup.version;
    if (event.has_settings_changed()) setup.rules = event.settings_changed().rules();
    if (event.has_template_saved()) {
      setup.templates[event.template_saved().template_().template_id()] =
          event.template_saved().template_();
    }
  }
  return setup;
}

absl::Status ContractCommandHandler::AppendSetup(const std::string& tenant,
                                                 const std::string& request_id,
                                                 const ev::ContractSetupEvent& event) {
  ASSIGN_OR_RETURN(auto ne, eventstore::ToNewEvent(event));
  std::vector<eventstore::NewEvent> events;
  events.push_back(std::move(ne));
  return store_
      ->Append({tenant, kSetupStreamId}, eventstore::kAnyVersion, std::move(events), request_id)
      .status();
}

absl::StatusOr<ev::ContractTemplate> ContractCommandHandler::SaveTemplate(
    const std::string& tenant, const std::string& request_id, const ev::ContractTemplate& t,
    const std::string& user) {
  RETURN_IF_ERROR(ValidateTemplate(t));
  ev::ContractSetupEvent e;
  *e.mutable_template_saved()->mutable_template_() = t;
  e.mutable_template_saved()->set_by(user);
  *e.mutable_template_saved()->mutable_save_time() = ToTimestamp(clock_->Now());
  RETURN_IF_ERROR(AppendSetup(tenant, request_id, e));
  ASSIGN_OR_RETURN(Setup setup, GetSetup(tenant));
  return setup.templates[t.template_id()];
}

absl::StatusOr<ev::ApprovalRules> ContractCommandHandler::UpdateRules(
    const std::string& tenant, const std::string& request_id, const ev::ApprovalRules& rules,
    const std::string& user) {
  RETURN_IF_ERROR(ValidateRules(rules));
  ev::ContractSetupEvent e;
  *e.mutable_settings_changed()->mutable_rules() = rules;
  e.mutable_settings_changed()->set_by(user);
  *e.mutable_settings_changed()->mutable_change_time() = ToTimestamp(clock_->Now());
  RETURN_IF_ERROR(AppendSetup(tenant, request_id, e));
  ASSIGN_OR_RETURN(Setup setup, GetSetup(tenant));
  return setup.rules;
}

absl::StatusOr<ev::ContractTerms> ContractCommandHandler::Terms(const std::string& tenant,
                                                                const TermsInput& in) {
  ASSIGN_OR_RETURN(Setup setup, GetSetup(tenant));
  auto it = setup.templates.find(in.template_id);
  return MakeTerms(in, it == setup.templates.end() ? nullptr : &it->second);
}

absl::StatusOr<Contract> ContractCommandHandler::Create(const std::string& tenant,
                                                        const std::string& request_id,
                                                        contract::Create cmd,
                                                        const TermsInput& terms) {
  ASSIGN_OR_RETURN(auto seen, store_->FindRequest(tenant, request_id));
  if (seen) return Get(tenant, seen->stream_id());
  ASSIGN_OR_RETURN(cmd.terms, Terms(tenant, terms));
  Contract renewed;
  if (!cmd.renewal_of.empty()) {
    ASSIGN_OR_RETURN(renewed, Load(tenant, cmd.renewal_of));
    cmd.renewed = &renewed;
  }
  cmd.now = clock_->Now();
  cmd.contract_id = eventstore::NewTimeOrderedId('k', cmd.now);
  ASSIGN_OR_RETURN(ContractEvent event, Decide(Contract{}, cmd));
  ASSIGN_OR_RETURN(auto ne, eventstore::ToNewEvent(event));
  std::vector<eventstore::NewEvent> events;
  events.push_back(std::move(ne));
  ASSIGN_OR_RETURN(auto receipt, store_->Append({tenant, cmd.contract_id}, eventstore::kNoStream,
                                                std::move(events), request_id));
  // A concurrent retry may have won: the receipt names what it created.
  return Get(tenant, receipt.stream_id());
}

absl::StatusOr<Contract> ContractCommandHandler::Change(const std::string& tenant,
                                                        const std::string& request_id,
                                                        const std::string& id,
                                                        const TermsInput& terms,
                                                        const std::string& user) {
  ASSIGN_OR_RETURN(ev::ContractTerms t, Terms(tenant, terms));
  const absl::Time now = clock_->Now();
  return Execute(tenant, request_id, id,
                 [&](const Contract& c) { return contract::Change(c, t, user, now); });
}

absl::StatusOr<Contract> ContractCommandHandler::Submit(const std::string& tenant,
                                                        const std::string& request_id,
                                                        const std::string& id,
                                                        const std::string& user) {
  ASSIGN_OR_RETURN(Setup setup, GetSetup(tenant));
  const Rules rules = Rules::From(setup.rules);
  const absl::Time now = clock_->Now();
  return Execute(tenant, request_id, id,
                 [&](const Contract& c) { return contract::Submit(c, rules, user, now); });
}

absl::StatusOr<Contract> ContractCommandHandler::Approve(
    const std::string& tenant, const std::string& request_id, const std::string& id,
    const std::string& user, const std::set<std::string>& roles, const std::string& comment) {
  const absl::Time now = clock_->Now();
  return Execute(tenant, request_id, id, [&](const Contract& c) {
    return contract::Approve(c, user, roles, comment, now);
  });
}

absl::StatusOr<Contract> ContractCommandHandler::Reject(
    const std::string& tenant, const std::string& request_id, const std::string& id,
    const std::string& user, const std::set<std::string>& roles, const std::string& comment) {
  const absl::Time now = clock_->Now();
  return Execute(tenant, request_id, id,
                 [&](const Contract& c) { return contract::Reject(c, user, roles, comment, now); });
}

absl::StatusOr<Contract> ContractCommandHandler::Send(const std::string& tenant,
                                                      const std::string& request_id,
                                                      const std::string& id,
                                                      const std::string& user) {
  const absl::Time now = clock_->Now();
  return Execute(tenant, request_id, id,
                 [&](const Contract& c) { return contract::SendForConfirmation(c, user, now); });
}

absl::StatusOr<Contract> ContractCommandHandler::Confirm(const std::string& tenant,
                                                         const std::string& request_id,
                                                         const std::string& id,
                                                         const std::string& user) {
  const absl::Time now = clock_->Now();
  return Execute(tenant, request_id, id,
                 [&](const Contract& c) { return contract::Confirm(c, user, now); });
}

absl::StatusOr<Contract> ContractCommandHandler::End(const std::string& tenant,
                                                     const std::string& request_id,
                                                     const std::string& id, ev::EndReason reason,
                                                     const std::string& note,
                                                     const std::string& user) {
  const absl::Time now = clock_->Now();
  return Execute(tenant, request_id, id,
                 [&](const Contract& c) { return contract::End(c, reason, note, user, now); });
}

absl::StatusOr<Contract> ContractCommandHandler::SetPaymentPlan(
    const std::string& tenant, const std::string& request_id, const std::string& id,
    const std::vector<PlannedInstallment>& plan, const std::string& user) {
  const absl::Time now = clock_->Now();
  return Execute(tenant, request_id, id,
                 [&](const Contract& c) { return contract::SetPaymentPlan(c, plan, user, now); });
}

absl::StatusOr<Contract> ContractCommandHandler::RecordPayment(const std::string& tenant,
                                                               const std::string& request_id,
                                                               const std::string& id,
                                                               int64_t amount, absl::Time received,
                                                               const std::string& user) {
  const absl::Time now = clock_->Now();
  if (received == absl::InfinitePast()) received = now;
  if (received > now + absl::Minutes(5)) {
    FieldViolations v;
    v.Add("receive_time", "must not be in the future");
    return v.ToStatus();
  }
  const std::string receipt_id = eventstore::NewTimeOrderedId('r', now);
  return Execute(tenant, request_id, id, [&](const Contract& c) {
    return contract::ReceivePayment(c, receipt_id, amount, received, user);
  });
}

absl::StatusOr<Contract> ContractCommandHandler::AddMilestone(
    const std::string& tenant, const std::string& request_id, const std::string& id,
    const NewMilestone& m, const std::string& user, const std::set<std::string>& roles) {
  const absl::Time now = clock_->Now();
  return Execute(tenant, request_id, id,
                 [&](const Contract& c) { return contract::AddMilestone(c, m, user, roles, now); });
}

absl::StatusOr<Contract> ContractCommandHandler::CompleteMilestone(
    const std::string& tenant, const std::string& request_id, const std::string& id,
    const std::string& milestone_id, const std::string& note, ev::FollowUpKind follow_up,
    int32_t follow_up_after_days, const std::string& user, const std::set<std::string>& roles) {
  const absl::Time now = clock_->Now();
  return Execute(tenant, request_id, id, [&](const Contract& c) {
    return contract::CompleteMilestone(c, milestone_id, note, follow_up, follow_up_after_days, user,
                                       roles, now);
  });
}

absl::StatusOr<int> ContractCommandHandler::GiveNotices(const std::string& tenant,
                                                        const std::string& id, int64_t version) {
  const absl::Time now = clock_->Now();
  int given = 0;
  RETURN_IF_ERROR(Execute(tenant, absl::StrCat("notices:", id, ":", version), id,
                          [&](const Contract& c) -> absl::StatusOr<std::vector<ContractEvent>> {
                            auto events = DueNotices(c, now);
                            given = static_cast<int>(events.size());
                            return events;
                          })
                      .status());
  return given;
}

}  // namespace crm::contract
