// crm-customer: the customer service process. Wiring only.

#include "libs/bus/log_gauges.h"
#include "libs/bus/log_tailer.h"
#include "libs/bus/relay.h"
#include "libs/bus/topic_consumer.h"
#include "libs/ops/ops_service.h"
#include "libs/runtime/log.h"
#include "libs/runtime/server.h"
#include "libs/runtime/stores.h"
#include "services/customer/app/contract_signals.h"
#include "services/customer/app/drop_protection.h"
#include "services/customer/app/match_index.h"
#include "services/customer/app/standing_review.h"
#include "services/customer/projection/contributions.h"
#include "services/customer/projection/customer_list.h"
#include "services/customer/projection/teams.h"
#include "services/customer/rpc/customer_service.h"

int main(int argc, char** argv) {
  using namespace crm;
  auto process = runtime::StartProcess(argc, argv, "customer");
  if (!process.ok()) {
    LogError("cannot start", {{"error", process.status().ToString()}});
    return 2;
  }
  const runtime::Config* config = &process->config;
  auto vault = runtime::OpenVault(*process);
  if (!vault.ok()) {
    LogError("cannot open the key store", {{"error", vault.status().ToString()}});
    return 2;
  }
  // Personal fields are stored and published sealed with per-person keys.
  auto stores = runtime::OpenStores(*process, vault->get());
  if (!stores.ok()) {
    LogError("cannot open the stores", {{"error", stores.status().ToString()}});
    return 1;
  }
  eventstore::EventStore* es = stores->events.get();
  readstore::ReadStore* rs = stores->read.get();
  customer::CustomerCommandHandler commands(es, process->clock, customer::Policy{});
  commands.SetVault(vault->get());

  customer::CustomerListProjection list;
  readstore::ProjectionRunner list_runner(rs, &list);
  bus::LogTailer list_tailer(es, &list_runner);
  customer::DropIndexProjection drop_index(&commands);
  readstore::ProjectionRunner drop_runner(rs, &drop_index);
  bus::LogTailer drop_tailer(es, &drop_runner);
  customer::ContributionProjection contributions;
  readstore::ProjectionRunner contributions_runner(rs, &contributions);
  bus::LogTailer contributions_tailer(es, &contributions_runner);
  customer::MatchIndexProjection match;
  readstore::ProjectionRunner match_runner(rs, &match);
  bus::LogTailer match_tailer(es, &match_runner);
  commands.SetMatchLookup([&](const std::string& tenant, const std::vector<std::string>& keys,
                              const std::string& exclude) {
    // Read this service's own earlier writes; past the wait, detect on what
    // the index has (a lagging index only delays detection to the next claim).
    match_tailer.WaitFor(es->LastPosition(), absl::Seconds(2));
    return customer::FindMatches(rs, tenant, keys, exclude, 20);
  });
  customer::DropScheduler scheduler(rs, &commands);

  bus::KafkaOptions kafka{
      config->Get("kafka-bootstrap", ""), config->Get("kafka-bootstrap-file", ""), {}};
  bus::Relay relay(es, {"customer", kafka});
  customer::ContractSignals contract_signals(&commands);
  readstore::ProjectionRunner contract_runner(rs, &contract_signals);
  bus::TopicConsumer contract_consumer(
      &contract_runner, {bus::TopicFor("contract"), "crm-customer-contract-signals", kafka});
  customer::OpportunitySignals opportunity_signals(&commands);
  readstore::ProjectionRunner opportunity_runner(rs, &opportunity_signals);
  bus::TopicConsumer opportunity_consumer(
      &opportunity_runner,
      {bus::TopicFor("opportunity"), "crm-customer-opportunity-signals", kafka});
  customer::TeamsProjection teams;
  readstore::ProjectionRunner teams_runner(rs, &teams);
  bus::TopicConsumer lead_consumer(&teams_runner,
                                   {bus::TopicFor("lead"), "crm-customer-teams", kafka});

  customer::CustomerServiceImpl service(&commands, rs);
  // Parked events apply again at start: deploying a fix replays them.
  ops::OpsServiceImpl ops({&list_runner, &drop_runner, &contributions_runner, &match_runner,
                           &contract_runner, &opportunity_runner, &teams_runner},
                          {&contract_consumer, &opportunity_consumer, &lead_consumer});
  if (auto left = ops.ReplayParkedAtStart(); !left.ok()) {
    LogError("cannot replay parked events", {{"error", left.status().ToString()}});
    return 1;
  }
  runtime::Server server(*config, "customer", "127.0.0.1:50052");
  server.AddReadinessCheck([&contract_consumer] { return contract_consumer.caught_up(); });
  server.AddReadinessCheck([&opportunity_consumer] { return opportunity_consumer.caught_up(); });
  server.AddReadinessCheck([&lead_consumer] { return lead_consumer.caught_up(); });
  server.AddService(&service);
  server.AddService(&ops);
  bus::AddLogGauges(server, es, relay);
  server.AddGauge(
      "crm_projection_lag_events", "Log events not yet applied to customer_list.",
      [es, &list_tailer] { return double(es->LastPosition() - list_tailer.position()); });
  server.AddGauge(
      "crm_projection_parked_events", "Events parked by the customer projections.", [&] {
        return double(list_runner.stats().parked + drop_runner.stats().parked +
                      match_runner.stats().parked + contributions_runner.stats().parked +
                      contract_runner.stats().parked + opportunity_runner.stats().parked +
                      teams_runner.stats().parked);
      });
  server.AddGauge("crm_drop_protection_actions", "Drop-protection warnings and releases issued.",
                  [&scheduler] { return double(scheduler.actions()); });

  for (bus::LogTailer* t : {&list_tailer, &drop_tailer, &match_tailer, &contributions_tailer}) {
    if (absl::Status s = t->CatchUp(); !s.ok()) {
      LogError("cannot catch up a projection", {{"error", s.ToString()}});
      return 1;
    }
    t->Start();
  }
  auto period = config->GetInt("drop-check-seconds", 60);
  scheduler.Start(absl::Seconds(period.ok() ? *period : 60));
  customer::StandingReviewer reviewer(rs, &commands);
  auto review_period = config->GetInt("standing-review-seconds", 3600);
  reviewer.Start(absl::Seconds(review_period.ok() ? *review_period : 3600));
  relay.Start();
  contract_consumer.Start();
  opportunity_consumer.Start();
  lead_consumer.Start();
  if (absl::Status s = server.Start(); !s.ok()) {
    LogError("cannot start", {{"error", s.ToString()}});
    return 1;
  }
  server.WaitForTermination();
  reviewer.Stop();
  scheduler.Stop();
  lead_consumer.Stop();
  opportunity_consumer.Stop();
  contract_consumer.Stop();
  relay.Stop();
  contributions_tailer.Stop();
  match_tailer.Stop();
  drop_tailer.Stop();
  list_tailer.Stop();
  return 0;
}
