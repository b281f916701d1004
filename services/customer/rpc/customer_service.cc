#include "services/customer/rpc/customer_service.h"

#include "absl/strings/str_cat.h"
#include "libs/clock/timestamp.h"
#include "libs/rpc/rpc.h"
#include "libs/status/status.h"
#include "services/customer/app/drop_protection.h"
#include "services/customer/projection/contributions.h"
#include "services/customer/projection/customer_list.h"
#include "services/customer/projection/teams.h"

namespace crm::customer {
namespace {

Profile ProfileFrom(const v1::Customer& c) {
  Profile p;
  p.set_company_name(c.company_name());
  p.set_legal_entity_id(c.legal_entity_id());
  p.set_industry(c.industry());
  p.set_region(c.region());
  p.set_size(c.size());
  p.set_annual_revenue(c.annual_revenue());
  p.set_segment(c.segment());
  *p.mutable_contacts() = c.contacts();
  *p.mutable_tags() = c.tags();
  return p;
}

// What `viewer` may see of a customer whose current owner is `owner` (empty:
// public pool): everything when it is public or theirs, else name and owner.
void Restrict(const std::string& owner, const std::string& viewer, v1::Customer* c) {
  if (owner.empty() || owner == viewer) return;
  v1::Customer visible;
  visible.set_name(c->name());
  visible.set_customer_id(c->customer_id());
  visible.set_company_name(c->company_name());
  visible.set_owner_id(c->owner_id());
  visible.set_pool(c->pool());
  visible.set_restricted(true);
  *c = std::move(visible);
}

// `c` as `viewer` may see it; an empty viewer sees everything.
void ToProto(const Customer& c, const Policy& policy, const std::string& viewer,
             v1::Customer* out) {
  out->set_name("customers/" + c.id);
  out->set_customer_id(c.id);
  const Profile& p = c.profile;
  out->set_company_name(p.company_name());
  out->set_legal_entity_id(p.legal_entity_id());
  out->set_industry(p.industry());
  out->set_region(p.region());
  out->set_size(p.size());
  out->set_annual_revenue(p.annual_revenue());
  out->set_segment(p.segment());
  *out->mutable_contacts() = p.contacts();
  *out->mutable_tags() = p.tags();
  out->set_pool(c.is_private() ? v1::POOL_STATE_PRIVATE : v1::POOL_STATE_PUBLIC);
  out->set_owner_id(c.owner);
  out->set_completeness(c.completeness);
  if (c.is_private()) *out->mutable_claim_time() = ToTimestamp(c.claim_time);
  if (c.last_valid_touch != absl::InfinitePast()) {
    *out->mutable_last_valid_touch_time() = ToTimestamp(c.last_valid_touch);
  }
  if (auto deadline = NextDropDeadline(c, policy)) {
    *out->mutable_release_deadline() = ToTimestamp(deadline->at);
  }
  for (const auto& [year, amount] : c.annual_sales) {
    auto* sales = out->add_annual_sales();
    sales->set_year(year);
    sales->set_amount(amount);
  }
  if (c.last_engagement_spike != absl::InfinitePast()) {
    *out->mutable_engagement_spike_time() = ToTimestamp(c.last_engagement_spike);
  }
  for (const auto& [year, amount] : c.contract_sales) {
    auto* sales = out->add_contract_sales();
    sales->set_year(year);
    sales->set_amount(amount);
  }
  out->set_etag(absl::StrCat(c.version));
  *out->mutable_create_time() = ToTimestamp(c.create_time);
  for (const auto& m : c.matches) *out->add_conflicts() = m;
  if (!c.reserved_by.empty()) {
    out->set_reserved_by(c.reserved_by);
    *out->mutable_reservation_expire_time() = ToTimestamp(c.reserved_until);
    out->set_reservation_secured(c.reservation_secured);
  }
  if (!viewer.empty()) Restrict(c.owner, viewer, out);
}

void ToProto(const RepPool& pool, const Policy& policy, absl::Time now, v1::RepPool* out) {
  out->set_rep_id(pool.rep);
  out->set_size(static_cast<int32_t>(pool.customers.size()));
  out->set_capacity(pool.Capacity(policy));
  for (const auto& id : pool.customers) out->add_customer_ids(id);
  out->set_reservations(static_cast<int32_t>(pool.reservations.size()));
  out->set_reservation_limit(pool.ReservationLimit(policy));
  for (const auto& id : pool.reservations) out->add_reserved_customer_ids(id);
  out->set_lead_priority(pool.lead_priority);
  out->set_recent_conflicts_lost(RecentConflictsLost(pool, now, policy));
}

// Validates the caller and request id; the caller on success.
absl::StatusOr<rpc::Caller> Begin(const grpc::ServerContext& ctx, const std::string* request_id,
                                  FieldViolations& v) {
  ASSIGN_OR_RETURN(rpc::Caller caller, rpc::CallerFrom(ctx));
  if (request_id) rpc::CheckRequestId(*request_id, v);
  return caller;
}

// The caller and the customer id of a mutating call on one customer, after
// checking the request id and the resource name in `field`.
absl::StatusOr<std::pair<rpc::Caller, std::string>> BeginOnCustomer(
    const grpc::ServerContext& ctx, const std::string& request_id, const std::string& name,
    absl::string_view field = "name") {
  FieldViolations v;
  ASSIGN_OR_RETURN(rpc::Caller caller, Begin(ctx, &request_id, v));
  ASSIGN_OR_RETURN(std::string id, rpc::ParseName("customers", name, field));
  RETURN_IF_ERROR(v.ToStatus());
  return std::make_pair(std::move(caller), std::move(id));
}

v1::Segment ToProto(const ev::SegmentSaved& e) {
  v1::Segment out;
  out.set_name("segments/" + e.segment_id());
  out.set_display_name(e.display_name());
  *out.mutable_rule() = e.rule();
  out.set_creator(e.saved_by());
  *out.mutable_create_time() = e.save_time();
  return out;
}

// Whose view the caller gets: admins see everything ("").
std::string Viewer(const rpc::Caller& caller) { return caller.admin ? "" : caller.user; }

}  // namespace

absl::Status CustomerServiceImpl::Render(const std::string& tenant, const Customer& c,
                                         const std::string& viewer, v1::Customer* out) {
  ASSIGN_OR_RETURN(auto tiers, tiers_.Get(tenant));
  ASSIGN_OR_RETURN(const Policy policy, commands_->PolicyFor(tenant));
  ToProto(c, policy, "", out);
  Decorate(*tiers, commands_->clock()->Now(), out);
  if (!viewer.empty()) Restrict(c.owner, viewer, out);
  return absl::OkStatus();
}

absl::StatusOr<CustomerServiceImpl::Access> CustomerServiceImpl::AccessOf(
    const rpc::Caller& caller) {
  Access access{&caller, {}};
  if (caller.manager) {
    ASSIGN_OR_RETURN(access.managed, ManagedReps(read_store_, caller.tenant, caller.user));
  }
  return access;
}

grpc::Status CustomerServiceImpl::CreateCustomer(grpc::ServerContext* ctx,
                                                 const v1::CreateCustomerRequest* req,
                                                 v1::Customer* resp) {
  FieldViolations v;
  auto caller = Begin(*ctx, &req->request_id(), v);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  if (!req->has_customer()) v.Add("customer", "is required");
  if (!v.empty()) return rpc::ToGrpcStatus(v.ToStatus());
  customer::CreateCustomer cmd;
  cmd.profile = ProfileFrom(req->customer());
  cmd.user = caller->user;
  cmd.into_public_pool = req->into_public_pool();
  // A lead's conversion names the person (the lead), so that erasing the
  // contact erases the lead's copy too.
  cmd.keep_person_ids = !caller->service.empty();
  auto c = commands_->Create(caller->tenant, req->request_id(), std::move(cmd));
  if (!c.ok()) return rpc::ToGrpcStatus(c.status());
  return rpc::ToGrpcStatus(Render(caller->tenant, *c, Viewer(*caller), resp));
}

grpc::Status CustomerServiceImpl::GetCustomer(grpc::ServerContext* ctx,
                                              const v1::GetCustomerRequest* req,
                                              v1::Customer* resp) {
  FieldViolations v;
  auto caller = Begin(*ctx, nullptr, v);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto id = rpc::ParseName("customers", req->name());
  if (!id.ok()) return rpc::ToGrpcStatus(id.status());
  auto now = commands_->Get(caller->tenant, *id);
  if (!now.ok()) return rpc::ToGrpcStatus(now.status());
  auto access = AccessOf(*caller);
  if (!access.ok()) return rpc::ToGrpcStatus(access.status());
  const std::string owner_now = now->is_private() ? now->owner : "";
  if (!req->has_as_of()) {
    return rpc::ToGrpcStatus(Render(caller->tenant, *now, access->ViewerOf(owner_now), resp));
  }
  const absl::Time as_of = FromTimestamp(req->as_of());
  auto then = commands_->Get(caller->tenant, *id, as_of);
  if (!then.ok()) return rpc::ToGrpcStatus(then.status());
  // Who may see the past in full is decided by who owns the customer now:
  // a new owner sees what happened before the hand-over.
  auto policy = commands_->PolicyFor(caller->tenant);
  if (!policy.ok()) return rpc::ToGrpcStatus(policy.status());
  ToProto(*then, *policy, "", resp);
  resp->set_restricted(false);
  if (!access->SeesAll(owner_now)) Restrict(owner_now, caller->user, resp);
  return grpc::Status::OK;
}

grpc::Status CustomerServiceImpl::ListCustomerHistory(grpc::ServerContext* ctx,
                                                      const v1::ListCustomerHistoryRequest* req,
                                                      v1::ListCustomerHistoryResponse* resp) {
  FieldViolations v;
  auto caller = Begin(*ctx, nullptr, v);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto id = rpc::ParseName("customers", req->name());
  if (!id.ok()) return rpc::ToGrpcStatus(id.status());
  auto size = rpc::PageSize(req->page_size());
  if (!size.ok()) return rpc::ToGrpcStatus(size.status());
  auto now = commands_->Get(caller->tenant, *id);
  if (!now.ok()) return rpc::ToGrpcStatus(now.status());
  auto access = AccessOf(*caller);
  if (!access.ok()) return rpc::ToGrpcStatus(access.status());
  if (now->is_private() && !access->SeesAll(now->owner)) {
    return rpc::ToGrpcStatus(ErrorWithReason(
        absl::StatusCode::kPermissionDenied, kNotOwner,
        "the history of another rep's private customer is visible to its owner, their managers "
        "and admins only"));
  }
  const std::string list = absl::StrCat("history:", caller->tenant, ":", *id);
  int64_t after = 0;
  if (!req->page_token().empty()) {
    auto decoded = rpc::DecodePageToken(list, req->page_token());
    if (!decoded.ok()) return rpc::ToGrpcStatus(decoded.status());
    after = std::atoll(decoded->c_str());
  }
  auto history = commands_->History(caller->tenant, *id);
  if (!history.ok()) return rpc::ToGrpcStatus(history.status());
  for (const auto& h : *history) {
    if (h.version <= after) continue;
    if (resp->entries_size() == *size) {
      resp->set_next_page_token(rpc::EncodePageToken(list, absl::StrCat(after)));
      break;
    }
    v1::HistoryEntry* e = resp->add_entries();
    *e->mutable_time() = ToTimestamp(h.time);
    e->set_version(h.version);
    e->set_type(h.type);
    e->set_actor(h.line.actor);
    e->set_summary(h.line.summary);
    for (const auto& f : h.line.changed_fields) e->add_changed_fields(f);
    e->set_owner_id(h.owner_after);
    after = h.version;
  }
  return grpc::Status::OK;
}

grpc::Status CustomerServiceImpl::UpdateCustomer(grpc::ServerContext* ctx,
                                                 const v1::UpdateCustomerRequest* req,
                                                 v1::Customer* resp) {
  auto begun = BeginOnCustomer(*ctx, req->request_id(), req->customer().name(), "customer.name");
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  UpdateProfile cmd;
  cmd.profile = ProfileFrom(req->customer());
  cmd.paths.assign(req->update_mask().paths().begin(), req->update_mask().paths().end());
  cmd.user = caller.user;
  auto c = commands_->Update(caller.tenant, req->request_id(), id, req->customer().etag(),
                             std::move(cmd));
  if (!c.ok()) return rpc::ToGrpcStatus(c.status());
  return rpc::ToGrpcStatus(Render(caller.tenant, *c, Viewer(caller), resp));
}

grpc::Status CustomerServiceImpl::EraseContact(grpc::ServerContext* ctx,
                                               const v1::EraseContactRequest* req,
                                               v1::Customer* resp) {
  auto begun = BeginOnCustomer(*ctx, req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  if (req->contact_id().empty()) {
    FieldViolations v;
    v.Add("contact_id", "is required");
    return rpc::ToGrpcStatus(v.ToStatus());
  }
  customer::EraseContact cmd;
  cmd.contact_id = req->contact_id();
  cmd.user = caller.user;
  auto c = commands_->EraseContact(caller.tenant, req->request_id(), id, std::move(cmd));
  if (!c.ok()) return rpc::ToGrpcStatus(c.status());
  return rpc::ToGrpcStatus(Render(caller.tenant, *c, Viewer(caller), resp));
}

grpc::Status CustomerServiceImpl::ListCustomers(grpc::ServerContext* ctx,
                                                const v1::ListCustomersRequest* req,
                                                v1::ListCustomersResponse* resp) {
  FieldViolations v;
  auto caller = Begin(*ctx, nullptr, v);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto size = rpc::PageSize(req->page_size());
  if (!size.ok()) return rpc::ToGrpcStatus(size.status());
  std::optional<std::string> owner;
  switch (req->filter()) {
    case v1::ListCustomersRequest::FILTER_PUBLIC_POOL:
      owner = "";
      break;
    case v1::ListCustomersRequest::FILTER_MY_POOL:
      owner = caller->user;
      break;
    case v1::ListCustomersRequest::FILTER_UNSPECIFIED:
      break;
    default:
      v.Add("filter", "is not a known filter");
      return rpc::ToGrpcStatus(v.ToStatus());
  }
  const std::string list =
      absl::StrCat("customers:", caller->tenant, ":", req->filter(), ":", caller->user);
  auto after = rpc::DecodePageToken(list, req->page_token());
  if (!after.ok()) return rpc::ToGrpcStatus(after.status());
  auto page = customer::ListCustomers(read_store_, caller->tenant, owner, *size, *after);
  if (!page.ok()) return rpc::ToGrpcStatus(page.status());
  auto tiers = tiers_.Get(caller->tenant);
  if (!tiers.ok()) return rpc::ToGrpcStatus(tiers.status());
  auto access = AccessOf(*caller);
  if (!access.ok()) return rpc::ToGrpcStatus(access.status());
  for (auto& c : page->items) {
    Decorate(**tiers, commands_->clock()->Now(), &c);
    if (!access->SeesAll(c.owner_id())) Restrict(c.owner_id(), caller->user, &c);
  }
  resp->mutable_customers()->Swap(&page->items);
  if (!page->last_id.empty()) resp->set_next_page_token(rpc::EncodePageToken(list, page->last_id));
  return grpc::Status::OK;
}

grpc::Status CustomerServiceImpl::ClaimCustomer(grpc::ServerContext* ctx,
                                                const v1::ClaimCustomerRequest* req,
                                                v1::Customer* resp) {
  auto begun = BeginOnCustomer(*ctx, req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  auto c = commands_->Claim(caller.tenant, req->request_id(), id, caller.user);
  if (!c.ok()) return rpc::ToGrpcStatus(c.status());
  return rpc::ToGrpcStatus(Render(caller.tenant, *c, Viewer(caller), resp));
}

grpc::Status CustomerServiceImpl::ReserveCustomer(grpc::ServerContext* ctx,
                                                  const v1::ReserveCustomerRequest* req,
                                                  v1::Customer* resp) {
  auto begun = BeginOnCustomer(*ctx, req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  auto c = commands_->Reserve(caller.tenant, req->request_id(), id, caller.user);
  if (!c.ok()) return rpc::ToGrpcStatus(c.status());
  return rpc::ToGrpcStatus(Render(caller.tenant, *c, Viewer(caller), resp));
}

grpc::Status CustomerServiceImpl::CancelReservation(grpc::ServerContext* ctx,
                                                    const v1::CancelReservationRequest* req,
                                                    v1::Customer* resp) {
  auto begun = BeginOnCustomer(*ctx, req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  auto c = commands_->CancelReservation(caller.tenant, req->request_id(), id, caller.user);
  if (!c.ok()) return rpc::ToGrpcStatus(c.status());
  return rpc::ToGrpcStatus(Render(caller.tenant, *c, Viewer(caller), resp));
}

grpc::Status CustomerServiceImpl::ReleaseCustomer(grpc::ServerContext* ctx,
                                                  const v1::ReleaseCustomerRequest* req,
                                                  v1::Customer* resp) {
  auto begun = BeginOnCustomer(*ctx, req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  auto c = commands_->Release(caller.tenant, req->request_id(), id, caller.user, req->note());
  if (!c.ok()) return rpc::ToGrpcStatus(c.status());
  return rpc::ToGrpcStatus(Render(caller.tenant, *c, Viewer(caller), resp));
}

grpc::Status CustomerServiceImpl::RecordTouch(grpc::ServerContext* ctx,
                                              const v1::RecordTouchRequest* req, v1::Touch* resp) {
  auto begun = BeginOnCustomer(*ctx, req->request_id(), req->customer(), "customer");
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  customer::RecordTouch cmd;
  cmd.channel = req->touch().channel();
  cmd.outcome = req->touch().outcome();
  cmd.note = req->touch().note();
  cmd.next_step = req->touch().next_step();
  cmd.contact_id = req->touch().contact_id();
  cmd.user = caller.user;
  auto t = commands_->RecordTouch(caller.tenant, req->request_id(), id, std::move(cmd));
  if (!t.ok()) return rpc::ToGrpcStatus(t.status());
  resp->set_touch_id(t->touch_id());
  resp->set_channel(t->channel());
  resp->set_outcome(t->outcome());
  resp->set_note(t->note());
  resp->set_next_step(t->next_step());
  resp->set_valid(t->valid());
  resp->set_invalid_reason(t->invalid_reason());
  *resp->mutable_touch_time() = t->touch_time();
  resp->set_contact_id(t->contact_id());
  return grpc::Status::OK;
}

grpc::Status CustomerServiceImpl::FileConflict(grpc::ServerContext* ctx,
                                               const v1::FileConflictRequest* req,
                                               v1::Conflict* resp) {
  auto begun = BeginOnCustomer(*ctx, req->request_id(), req->customer(), "customer");
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  auto own = rpc::ParseName("customers", req->claimant_customer(), "claimant_customer");
  if (!own.ok()) return rpc::ToGrpcStatus(own.status());
  auto verdict =
      commands_->FileConflict(caller.tenant, req->request_id(), id, *own, caller.user, req->note());
  if (!verdict.ok()) return rpc::ToGrpcStatus(verdict.status());
  resp->set_name("conflicts/" + verdict->conflict_id());
  *resp->mutable_verdict() = std::move(*verdict);
  return grpc::Status::OK;
}

grpc::Status CustomerServiceImpl::GetConflict(grpc::ServerContext* ctx,
                                              const v1::GetConflictRequest* req,
                                              v1::Conflict* resp) {
  FieldViolations v;
  auto caller = Begin(*ctx, nullptr, v);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto id = rpc::ParseName("conflicts", req->name());
  if (!id.ok()) return rpc::ToGrpcStatus(id.status());
  auto verdict = commands_->GetConflict(caller->tenant, *id);
  if (!verdict.ok()) return rpc::ToGrpcStatus(verdict.status());
  if (caller->user != verdict->incumbent().rep_id() &&
      caller->user != verdict->claimant().rep_id() && !caller->admin) {
    return rpc::ToGrpcStatus(ErrorWithReason(absl::StatusCode::kPermissionDenied, kNotOwner,
                                             "a conflict is visible to the two reps involved"));
  }
  resp->set_name("conflicts/" + *id);
  *resp->mutable_verdict() = std::move(*verdict);
  return grpc::Status::OK;
}

grpc::Status CustomerServiceImpl::ListReminders(grpc::ServerContext* ctx,
                                                const v1::ListRemindersRequest*,
                                                v1::ListRemindersResponse* resp) {
  FieldViolations v;
  auto caller = Begin(*ctx, nullptr, v);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto reminders = ListDropReminders(read_store_, caller->tenant, caller->user);
  if (!reminders.ok()) return rpc::ToGrpcStatus(reminders.status());
  auto policy = commands_->PolicyFor(caller->tenant);
  if (!policy.ok()) return rpc::ToGrpcStatus(policy.status());
  auto tiers = tiers_.Get(caller->tenant);
  if (!tiers.ok()) return rpc::ToGrpcStatus(tiers.status());
  auto mots = ListMotReminders(read_store_, caller->tenant, **tiers, caller->user,
                               policy->a_tier_follow_up_gap, commands_->clock()->Now());
  if (!mots.ok()) return rpc::ToGrpcStatus(mots.status());
  auto reservations = ListReservationReminders(commands_, caller->tenant, caller->user);
  if (!reservations.ok()) return rpc::ToGrpcStatus(reservations.status());
  std::vector<v1::Reminder> all = std::move(*reminders);
  all.insert(all.end(), mots->begin(), mots->end());
  all.insert(all.end(), reservations->begin(), reservations->end());
  std::stable_sort(all.begin(), all.end(), [](const v1::Reminder& a, const v1::Reminder& b) {
    return FromTimestamp(a.due_time()) < FromTimestamp(b.due_time());
  });
  for (auto& r : all) *resp->add_reminders() = std::move(r);
  return grpc::Status::OK;
}

grpc::Status CustomerServiceImpl::GetRepPool(grpc::ServerContext* ctx,
                                             const v1::GetRepPoolRequest* req, v1::RepPool* resp) {
  FieldViolations v;
  auto caller = Begin(*ctx, nullptr, v);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  const std::string rep = req->rep_id().empty() ? caller->user : req->rep_id();
  auto pool = commands_->GetPool(caller->tenant, rep);
  if (!pool.ok()) return rpc::ToGrpcStatus(pool.status());
  auto policy = commands_->PolicyFor(caller->tenant);
  if (!policy.ok()) return rpc::ToGrpcStatus(policy.status());
  ToProto(*pool, *policy, commands_->clock()->Now(), resp);
  auto access = AccessOf(*caller);
  if (!access.ok()) return rpc::ToGrpcStatus(access.status());
  if (!access->SeesAll(rep)) {  // others see sizes and limits only
    resp->clear_customer_ids();
    resp->clear_reserved_customer_ids();
  }
  return grpc::Status::OK;
}

grpc::Status CustomerServiceImpl::SetRepCapacity(grpc::ServerContext* ctx,
                                                 const v1::SetRepCapacityRequest* req,
                                                 v1::RepPool* resp) {
  FieldViolations v;
  auto caller = Begin(*ctx, &req->request_id(), v);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  if (req->rep_id().empty()) v.Add("rep_id", "is required");
  if (!v.empty()) return rpc::ToGrpcStatus(v.ToStatus());
  auto pool =
      commands_->SetCapacity(caller->tenant, req->request_id(), req->rep_id(),
                             customer::SetCapacity{req->capacity(), req->reason(), caller->user});
  if (!pool.ok()) return rpc::ToGrpcStatus(pool.status());
  auto policy = commands_->PolicyFor(caller->tenant);
  if (!policy.ok()) return rpc::ToGrpcStatus(policy.status());
  ToProto(*pool, *policy, commands_->clock()->Now(), resp);
  return grpc::Status::OK;
}

grpc::Status CustomerServiceImpl::RecordEngagement(grpc::ServerContext* ctx,
                                                   const v1::RecordEngagementRequest* req,
                                                   v1::Customer* resp) {
  auto begun = BeginOnCustomer(*ctx, req->request_id(), req->customer(), "customer");
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  customer::RecordEngagement cmd;
  cmd.kind = req->kind();
  cmd.topic = req->topic();
  cmd.seconds = req->seconds();
  if (req->has_occur_time()) cmd.occurred = FromTimestamp(req->occur_time());
  cmd.user = caller.user;
  auto c = commands_->RecordEngagement(caller.tenant, req->request_id(), id, std::move(cmd));
  if (!c.ok()) return rpc::ToGrpcStatus(c.status());
  auto access = AccessOf(caller);
  if (!access.ok()) return rpc::ToGrpcStatus(access.status());
  return rpc::ToGrpcStatus(
      Render(caller.tenant, *c, access->ViewerOf(c->is_private() ? c->owner : ""), resp));
}

grpc::Status CustomerServiceImpl::RecordAnnualSales(grpc::ServerContext* ctx,
                                                    const v1::RecordAnnualSalesRequest* req,
                                                    v1::Customer* resp) {
  auto begun = BeginOnCustomer(*ctx, req->request_id(), req->customer(), "customer");
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  auto c = commands_->RecordSales(
      caller.tenant, req->request_id(), id,
      customer::RecordSales{req->sales().year(), req->sales().amount(), caller.user, {}});
  if (!c.ok()) return rpc::ToGrpcStatus(c.status());
  return rpc::ToGrpcStatus(Render(caller.tenant, *c, Viewer(caller), resp));
}

grpc::Status CustomerServiceImpl::CreateSegment(grpc::ServerContext* ctx,
                                                const v1::CreateSegmentRequest* req,
                                                v1::Segment* resp) {
  FieldViolations v;
  auto caller = Begin(*ctx, &req->request_id(), v);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  if (!v.empty()) return rpc::ToGrpcStatus(v.ToStatus());
  auto saved = commands_->SaveSegment(
      caller->tenant, req->request_id(),
      customer::SaveSegment{
          "", req->segment().display_name(), req->segment().rule(), caller->user, {}});
  if (!saved.ok()) return rpc::ToGrpcStatus(saved.status());
  *resp = ToProto(*saved);
  return grpc::Status::OK;
}

grpc::Status CustomerServiceImpl::ListSegments(grpc::ServerContext* ctx,
                                               const v1::ListSegmentsRequest*,
                                               v1::ListSegmentsResponse* resp) {
  FieldViolations v;
  auto caller = Begin(*ctx, nullptr, v);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto segments = customer::ListSegments(read_store_, caller->tenant);
  if (!segments.ok()) return rpc::ToGrpcStatus(segments.status());
  for (const auto& s : *segments) *resp->add_segments() = ToProto(s);
  return grpc::Status::OK;
}

grpc::Status CustomerServiceImpl::ListSegmentCustomers(grpc::ServerContext* ctx,
                                                       const v1::ListSegmentCustomersRequest* req,
                                                       v1::ListCustomersResponse* resp) {
  FieldViolations v;
  auto caller = Begin(*ctx, nullptr, v);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto id = rpc::ParseName("segments", req->segment(), "segment");
  if (!id.ok()) return rpc::ToGrpcStatus(id.status());
  auto size = rpc::PageSize(req->page_size());
  if (!size.ok()) return rpc::ToGrpcStatus(size.status());
  auto segment = commands_->GetSegment(caller->tenant, *id);
  if (!segment.ok()) return rpc::ToGrpcStatus(segment.status());
  const std::string list = absl::StrCat("segment:", caller->tenant, ":", *id, ":", caller->user);
  auto after = rpc::DecodePageToken(list, req->page_token());
  if (!after.ok()) return rpc::ToGrpcStatus(after.status());
  auto tiers = tiers_.Get(caller->tenant);
  if (!tiers.ok()) return rpc::ToGrpcStatus(tiers.status());
  auto page = ListSegmentMembers(read_store_, caller->tenant, **tiers, segment->rule(),
                                 Viewer(*caller), commands_->clock()->Now(), *size, *after);
  if (!page.ok()) return rpc::ToGrpcStatus(page.status());
  resp->mutable_customers()->Swap(&page->items);
  if (!page->last_id.empty()) resp->set_next_page_token(rpc::EncodePageToken(list, page->last_id));
  return grpc::Status::OK;
}

grpc::Status CustomerServiceImpl::ListContributions(grpc::ServerContext* ctx,
                                                    const v1::ListContributionsRequest* req,
                                                    v1::ListContributionsResponse* resp) {
  FieldViolations v;
  auto caller = Begin(*ctx, nullptr, v);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto size = rpc::PageSize(req->page_size());
  if (!size.ok()) return rpc::ToGrpcStatus(size.status());
  if (req->rep_id().empty() == req->customer().empty()) {
    v.Add("rep_id", "set exactly one of rep_id and customer");
    return rpc::ToGrpcStatus(v.ToStatus());
  }
  auto access = AccessOf(*caller);
  if (!access.ok()) return rpc::ToGrpcStatus(access.status());
  std::string customer_id;
  if (!req->rep_id().empty()) {
    if (!access->SeesAll(req->rep_id())) {
      return rpc::ToGrpcStatus(absl::PermissionDeniedError(
          "a rep's contribution ledger is visible to that rep, their managers and admins only"));
    }
  } else {
    auto id = rpc::ParseName("customers", req->customer(), "customer");
    if (!id.ok()) return rpc::ToGrpcStatus(id.status());
    auto now = commands_->Get(caller->tenant, *id);
    if (!now.ok()) return rpc::ToGrpcStatus(now.status());
    if (now->is_private() && !access->SeesAll(now->owner)) {
      return rpc::ToGrpcStatus(ErrorWithReason(
          absl::StatusCode::kPermissionDenied, kNotOwner,
          "the contributions to another rep's private customer are visible to its owner, their "
          "managers and admins only"));
    }
    customer_id = *id;
  }
  const std::string list =
      absl::StrCat("contributions:", caller->tenant, ":", req->rep_id(), ":", customer_id);
  auto after = rpc::DecodePageToken(list, req->page_token());
  if (!after.ok()) return rpc::ToGrpcStatus(after.status());
  auto page = customer::ListContributions(read_store_, caller->tenant, req->rep_id(), customer_id,
                                          *size, *after);
  if (!page.ok()) return rpc::ToGrpcStatus(page.status());
  for (auto& c : page->contributions) *resp->add_contributions() = std::move(c);
  if (!page->next.empty()) resp->set_next_page_token(rpc::EncodePageToken(list, page->next));
  return grpc::Status::OK;
}

grpc::Status CustomerServiceImpl::GetTenantPolicy(grpc::ServerContext* ctx,
                                                  const v1::GetTenantPolicyRequest*,
                                                  v1::TenantPolicy* resp) {
  FieldViolations v;
  auto caller = Begin(*ctx, nullptr, v);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto policy = commands_->PolicyFor(caller->tenant);
  if (!policy.ok()) return rpc::ToGrpcStatus(policy.status());
  *resp->mutable_settings() = ToSettings(*policy);
  return grpc::Status::OK;
}

grpc::Status CustomerServiceImpl::UpdateTenantPolicy(grpc::ServerContext* ctx,
                                                     const v1::UpdateTenantPolicyRequest* req,
                                                     v1::TenantPolicy* resp) {
  FieldViolations v;
  auto caller = Begin(*ctx, &req->request_id(), v);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  if (!v.empty()) return rpc::ToGrpcStatus(v.ToStatus());
  if (!caller->admin) {
    return rpc::ToGrpcStatus(
        absl::PermissionDeniedError("changing the tenant's rules needs the admin role"));
  }
  customer::UpdatePolicy cmd;
  cmd.settings = req->settings();
  cmd.paths.assign(req->update_mask().paths().begin(), req->update_mask().paths().end());
  cmd.user = caller->user;
  auto policy = commands_->UpdatePolicy(caller->tenant, req->request_id(), std::move(cmd));
  if (!policy.ok()) return rpc::ToGrpcStatus(policy.status());
  *resp->mutable_settings() = ToSettings(*policy);
  return grpc::Status::OK;
}

}  // namespace crm::customer
