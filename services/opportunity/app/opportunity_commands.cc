#include "services/opportunity/app/opportunity_commands.h"

#include "absl/strings/str_cat.h"
#include "libs/clock/timestamp.h"
#include "libs/eventstore/codec.h"
#include "libs/eventstore/ids.h"
#include "libs/status/status.h"

namespace crm::opportunity {
namespace {

constexpr int kMaxAttempts = 16;

}  // namespace

absl::StatusOr<Opportunity> OpportunityCommandHandler::Load(const std::string& tenant,
                                                            const std::string& id) {
  ASSIGN_OR_RETURN(auto stored, store_->ReadStream({tenant, id}));
  Opportunity o;
  o.id = id;
  for (const auto& e : stored) {
    OpportunityEvent event;
    RETURN_IF_ERROR(eventstore::FromStored(e.type(), e.payload(), &event));
    o = Evolve(std::move(o), event);
  }
  return o;
}

absl::StatusOr<Opportunity> OpportunityCommandHandler::Get(const std::string& tenant,
                                                           const std::string& id) {
  ASSIGN_OR_RETURN(Opportunity o, Load(tenant, id));
  if (!o.exists()) return absl::NotFoundError("opportunity " + id + " does not exist");
  return o;
}

absl::StatusOr<CustomerFacts> OpportunityCommandHandler::FactsOf(const std::string& tenant,
                                                                 const std::string& customer_id) {
  if (!customer_facts_) return CustomerFacts{};
  return customer_facts_(tenant, customer_id);
}

absl::Status OpportunityCommandHandler::Execute(const std::string& tenant,
                                                const std::string& request_id,
                                                const std::string& id, const DecideFn& decide) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ASSIGN_OR_RETURN(auto seen, store_->FindRequest(tenant, request_id));
    if (seen) return absl::OkStatus();
    ASSIGN_OR_RETURN(Opportunity o, Load(tenant, id));
    auto decided = decide(o);
    if (!decided.ok()) {
      return eventstore::AppendedMeanwhileOr(*store_, tenant, request_id, decided.status());
    }
    auto events = *std::move(decided);
    if (events.empty()) return absl::OkStatus();
    ASSIGN_OR_RETURN(auto encoded, eventstore::ToNewEvents(events));
    auto receipt = store_->Append({tenant, id}, o.version, std::move(encoded), request_id);
    if (receipt.status().code() == absl::StatusCode::kAborted) continue;
    return receipt.status();
  }
  return absl::AbortedError("opportunity " + id + " is changing too fast; retry");
}

absl::StatusOr<Catalog> OpportunityCommandHandler::GetCatalog(const std::string& tenant) {
  const eventstore::StreamId stream{tenant, kCatalogStreamId};
  ASSIGN_OR_RETURN(const int64_t version, store_->StreamVersion(stream));
  Catalog catalog;
  {
    std::lock_guard<std::mutex> lock(catalog_mu_);
    auto it = catalogs_.find(tenant);
    if (it != catalogs_.end()) {
      if (it->second.version == version) return it->second;
      if (it->second.version < version) catalog = it->second;
    }
  }
  // Only the events after the cached version.
  ASSIGN_OR_RETURN(auto stored, store_->ReadStream(stream, catalog.version + 1));
  for (const auto& e : stored) {
    ev::CatalogEvent event;
    RETURN_IF_ERROR(eventstore::FromStored(e.type(), e.payload(), &event));
    ++catalog.version;
    if (event.has_product_saved()) {
      catalog.products[event.product_saved().product_id()] = event.product_saved();
    }
    if (event.has_settings_changed()) catalog.settings = event.settings_changed().settings();
  }
  std::lock_guard<std::mutex> lock(catalog_mu_);
  Catalog& cached = catalogs_[tenant];
  if (cached.version < catalog.version) cached = catalog;
  return catalog;
}

absl::StatusOr<Settings> OpportunityCommandHandler::SettingsFor(const std::string& tenant) {
  ASSIGN_OR_RETURN(Catalog catalog, GetCatalog(tenant));
  return Settings::From(catalog.settings);
}

absl::Status OpportunityCommandHandler::AppendCatalog(
    const std::string& tenant, const std::string& request_id,
    const std::function<absl::StatusOr<ev::CatalogEvent>(const Catalog&)>& decide) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ASSIGN_OR_RETURN(auto seen, store_->FindRequest(tenant, request_id));
    if (seen) return absl::OkStatus();
    ASSIGN_OR_RETURN(Catalog catalog, GetCatalog(tenant));
    auto decided = decide(catalog);
    if (!decided.ok()) {
      return eventstore::AppendedMeanwhileOr(*store_, tenant, request_id, decided.status());
    }
    ev::CatalogEvent event = *std::move(decided);
    ASSIGN_OR_RETURN(auto ne, eventstore::ToNewEvent(event));
    std::vector<eventstore::NewEvent> events;
    events.push_back(std::move(ne));
    auto receipt =
        store_->Append({tenant, kCatalogStreamId}, catalog.version, std::move(events), request_id);
    if (receipt.status().code() == absl::StatusCode::kAborted) continue;
    return receipt.status();
  }
  return absl::AbortedError("the price book is changing too fast; retry");
}

absl::StatusOr<ev::ProductSaved> OpportunityCommandHandler::SaveProduct(
    const std::string& tenant, const std::string& request_id, ev::ProductSaved product,
    const std::string& user) {
  product.set_by(user);
  *product.mutable_save_time() = ToTimestamp(clock_->Now());
  auto decide = [&](const Catalog& c) -> absl::StatusOr<ev::CatalogEvent> {
    RETURN_IF_ERROR(ValidateProduct(product, c.products));
    ev::CatalogEvent e;
    *e.mutable_product_saved() = product;
    return e;
  };
  RETURN_IF_ERROR(AppendCatalog(tenant, request_id, decide));
  ASSIGN_OR_RETURN(Catalog catalog, GetCatalog(tenant));
  return catalog.products[product.product_id()];
}

absl::StatusOr<ev::OpportunitySettings> OpportunityCommandHandler::UpdateSettings(
    const std::string& tenant, const std::string& request_id,
    const ev::OpportunitySettings& settings, const std::string& user) {
  RETURN_IF_ERROR(ValidateSettings(settings));
  RETURN_IF_ERROR(AppendCatalog(tenant, request_id, [&](const Catalog&) {
    ev::CatalogEvent e;
    *e.mutable_settings_changed()->mutable_settings() = settings;
    e.mutable_settings_changed()->set_by(user);
    *e.mutable_settings_changed()->mutable_change_time() = ToTimestamp(clock_->Now());
    return absl::StatusOr<ev::CatalogEvent>(e);
  }));
  ASSIGN_OR_RETURN(Catalog catalog, GetCatalog(tenant));
  return catalog.settings;
}

absl::StatusOr<Opportunity> OpportunityCommandHandler::Create(const std::string& tenant,
                                                              const std::string& request_id,
                                                              opportunity::Create cmd,
                                                              const std::vector<LineInput>& lines,
                                                              Role role) {
  ASSIGN_OR_RETURN(auto seen, store_->FindRequest(tenant, request_id));
  if (seen) return Get(tenant, seen->stream_id());
  ASSIGN_OR_RETURN(Catalog catalog, GetCatalog(tenant));
  const Settings settings = Settings::From(catalog.settings);
  ASSIGN_OR_RETURN(cmd.lines, PriceLines(lines, catalog.products, MaxDiscountBp(settings, role)));
  cmd.now = clock_->Now();
  cmd.opportunity_id = eventstore::NewTimeOrderedId('o', cmd.now);
  ASSIGN_OR_RETURN(CustomerFacts facts, FactsOf(tenant, cmd.customer_id));
  ASSIGN_OR_RETURN(OpportunityEvent event, Decide(Opportunity{}, cmd, facts, settings));
  ASSIGN_OR_RETURN(auto encoded, eventstore::ToNewEvents(std::vector<OpportunityEvent>{event}));
  ASSIGN_OR_RETURN(auto receipt, store_->Append({tenant, cmd.opportunity_id}, eventstore::kNoStream,
                                                std::move(encoded), request_id));
  return Get(tenant, receipt.stream_id());
}

absl::StatusOr<Opportunity> OpportunityCommandHandler::SetLines(
    const std::string& tenant, const std::string& request_id, const std::string& id,
    const std::vector<LineInput>& lines, const std::string& user, Role role) {
  ASSIGN_OR_RETURN(Catalog catalog, GetCatalog(tenant));
  const Settings settings = Settings::From(catalog.settings);
  ASSIGN_OR_RETURN(auto priced, PriceLines(lines, catalog.products, MaxDiscountBp(settings, role)));
  const absl::Time now = clock_->Now();
  auto decide = [&](const Opportunity& o) -> absl::StatusOr<std::vector<OpportunityEvent>> {
    ASSIGN_OR_RETURN(auto e, opportunity::SetLines(o, priced, user, now));
    return std::vector<OpportunityEvent>{e};
  };
  RETURN_IF_ERROR(Execute(tenant, request_id, id, decide));
  return Get(tenant, id);
}

absl::StatusOr<Opportunity> OpportunityCommandHandler::RecordNeed(const std::string& tenant,
                                                                  const std::string& request_id,
                                                                  const std::string& id,
                                                                  const std::string& need,
                                                                  const std::string& user) {
  const absl::Time now = clock_->Now();
  auto decide = [&](const Opportunity& o) -> absl::StatusOr<std::vector<OpportunityEvent>> {
    ASSIGN_OR_RETURN(auto e, opportunity::RecordNeed(o, need, user, now));
    return std::vector<OpportunityEvent>{e};
  };
  RETURN_IF_ERROR(Execute(tenant, request_id, id, decide));
  return Get(tenant, id);
}

absl::StatusOr<Opportunity> OpportunityCommandHandler::SendQuote(const std::string& tenant,
                                                                 const std::string& request_id,
                                                                 const std::string& id,
                                                                 const std::string& user) {
  const absl::Time now = clock_->Now();
  const std::string quote_id = eventstore::NewTimeOrderedId('q', now);
  auto decide = [&](const Opportunity& o) -> absl::StatusOr<std::vector<OpportunityEvent>> {
    ASSIGN_OR_RETURN(auto e, opportunity::SendQuote(o, quote_id, user, now));
    return std::vector<OpportunityEvent>{e};
  };
  RETURN_IF_ERROR(Execute(tenant, request_id, id, decide));
  return Get(tenant, id);
}

absl::StatusOr<Opportunity> OpportunityCommandHandler::UpdateForecast(
    const std::string& tenant, const std::string& request_id, const std::string& id,
    absl::Time expected_close, ev::ForecastCategory category, const std::string& user) {
  const absl::Time now = clock_->Now();
  RETURN_IF_ERROR(Execute(tenant, request_id, id, [&](const Opportunity& o) {
    return opportunity::UpdateForecast(o, expected_close, category, user, now);
  }));
  return Get(tenant, id);
}

absl::StatusOr<Opportunity> OpportunityCommandHandler::Advance(const std::string& tenant,
                                                               const std::string& request_id,
                                                               const std::string& id,
                                                               const std::string& stage_id,
                                                               const std::string& user) {
  ASSIGN_OR_RETURN(const Settings settings, SettingsFor(tenant));
  const absl::Time now = clock_->Now();
  auto decide = [&](const Opportunity& o) -> absl::StatusOr<std::vector<OpportunityEvent>> {
    CustomerFacts facts;
    if (o.exists()) {
      ASSIGN_OR_RETURN(facts, FactsOf(tenant, o.created.customer_id()));
    }
    return opportunity::Advance(o, stage_id, facts, settings, user, now);
  };
  RETURN_IF_ERROR(Execute(tenant, request_id, id, decide));
  return Get(tenant, id);
}

absl::StatusOr<Opportunity> OpportunityCommandHandler::RequestCloseLost(
    const std::string& tenant, const std::string& request_id, const std::string& id,
    ev::LossReason reason, const std::string& note, const std::string& user) {
  const absl::Time now = clock_->Now();
  auto decide = [&](const Opportunity& o) -> absl::StatusOr<std::vector<OpportunityEvent>> {
    ASSIGN_OR_RETURN(auto e, opportunity::RequestCloseLost(o, reason, note, user, now));
    return std::vector<OpportunityEvent>{e};
  };
  RETURN_IF_ERROR(Execute(tenant, request_id, id, decide));
  return Get(tenant, id);
}

absl::StatusOr<Opportunity> OpportunityCommandHandler::DecideCloseLost(
    const std::string& tenant, const std::string& request_id, const std::string& id, bool approve,
    const std::string& comment, bool manager, const std::string& user) {
  const absl::Time now = clock_->Now();
  auto decide = [&](const Opportunity& o) -> absl::StatusOr<std::vector<OpportunityEvent>> {
    ASSIGN_OR_RETURN(auto e, opportunity::DecideCloseLost(o, approve, comment, manager, user, now));
    return std::vector<OpportunityEvent>{e};
  };
  RETURN_IF_ERROR(Execute(tenant, request_id, id, decide));
  return Get(tenant, id);
}

absl::StatusOr<Opportunity> OpportunityCommandHandler::CloseWon(const std::string& tenant,
                                                                const std::string& request_id,
                                                                const std::string& id,
                                                                const std::string& user) {
  ASSIGN_OR_RETURN(Opportunity o, Get(tenant, id));
  if (o.state == State::kWon) return o;
  RETURN_IF_ERROR(CheckWinnable(o, user));
  if (!contract_creator_) return absl::UnavailableError("no contract service is configured");
  // Derived from the opportunity alone: every attempt asks for one contract.
  ASSIGN_OR_RETURN(const std::string contract_id,
                   contract_creator_(tenant, user, "opportunity-won:" + id, o));
  const absl::Time now = clock_->Now();
  auto decide = [&](const Opportunity& cur) -> absl::StatusOr<std::vector<OpportunityEvent>> {
    if (cur.state == State::kWon) return std::vector<OpportunityEvent>{};
    ASSIGN_OR_RETURN(auto e, Win(cur, contract_id, user, now));
    return std::vector<OpportunityEvent>{e};
  };
  RETURN_IF_ERROR(Execute(tenant, request_id, id, decide));
  return Get(tenant, id);
}

}  // namespace crm::opportunity
