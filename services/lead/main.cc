// crm-lead: the lead service process. Wiring only.

#include "grpcpp/create_channel.h"
#include "libs/bus/log_gauges.h"
#include "libs/bus/log_tailer.h"
#include "libs/bus/relay.h"
#include "libs/bus/topic_consumer.h"
#include "libs/ops/ops_service.h"
#include "libs/runtime/log.h"
#include "libs/runtime/server.h"
#include "libs/runtime/stores.h"
#include "services/lead/app/customer_client.h"
#include "services/lead/app/work_scheduler.h"
#include "services/lead/projection/customer_directory.h"
#include "services/lead/projection/lead_list.h"
#include "services/lead/rpc/lead_service.h"

int main(int argc, char** argv) {
  using namespace crm;
  auto process = runtime::StartProcess(argc, argv, "lead");
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
  if (absl::Status s = lead::IndexStoredLeads(rs); !s.ok()) {
    LogError("cannot index the stored leads", {{"error", s.ToString()}});
    return 1;
  }
  lead::LeadListProjection lead_list(es);
  readstore::ProjectionRunner lead_list_runner(rs, &lead_list);
  bus::LogTailer tailer(es, &lead_list_runner);

  bus::KafkaOptions kafka{
      config->Get("kafka-bootstrap", ""), config->Get("kafka-bootstrap-file", ""), {}};
  bus::Relay relay(es, {"lead", kafka});
  lead::CustomerDirectoryProjection customers(vault->get());
  readstore::ProjectionRunner customers_runner(rs, &customers);
  bus::TopicConsumer customer_consumer(
      &customers_runner, {bus::TopicFor("customer"), "crm-lead-customer-directory", kafka});

  lead::LeadCommandHandler commands(es, process->clock);
  commands.SetVault(vault->get());
  // Erasing a customer's contact that came from a lead erases the lead's.
  customers.OnContactErased([&commands](const std::string& tenant, const std::string& person) {
    auto erased = commands.EraseContact(tenant, "erase-contact:" + person, person, "system");
    return erased.status().code() == absl::StatusCode::kNotFound ? absl::OkStatus()
                                                                 : erased.status();
  });
  commands.SetLeadMatcher([&](const std::string& tenant, const std::vector<std::string>& keys) {
    // Read this service's own earlier writes; past the wait, match on what
    // the index has.
    tailer.WaitFor(es->LastPosition(), absl::Seconds(2));
    return lead::FindLeadMatches(rs, tenant, keys);
  });
  commands.SetCustomerMatcher(
      [rs, v = vault->get()](const std::string& tenant, const std::vector<std::string>& keys) {
        return lead::FindCustomer(rs, tenant, lead::TagKeys(*v, tenant, keys));
      });
  commands.SetPriorityLookup([rs](const std::string& tenant, const std::string& rep) {
    return lead::HasLeadPriority(rs, tenant, rep);
  });
  if (process->tokens == nullptr) {
    LogError("cannot start", {{"error",
                               "calls to the customer and opportunity services need a "
                               "key that signs (--auth-signing-key)"}});
    return 2;
  }
  lead::CustomerClient customer_client(
      grpc::CreateChannel(config->Get("customer-endpoint", "127.0.0.1:50052"),
                          process->channel_credentials),
      process->tokens.get());
  commands.SetCustomerCreator([&customer_client](const std::string& tenant, const std::string& user,
                                                 const std::string& request_id,
                                                 const lead::Lead& lead) {
    return customer_client.Create(tenant, user, request_id, lead);
  });
  lead::OpportunityClient opportunity_client(
      grpc::CreateChannel(config->Get("opportunity-endpoint", "127.0.0.1:50053"),
                          process->channel_credentials),
      process->tokens.get());
  commands.SetOpportunityCreator(
      [&opportunity_client](const std::string& tenant, const std::string& user,
                            const std::string& request_id, const std::string& customer_id,
                            const std::string& name) {
        return opportunity_client.Create(tenant, user, request_id, customer_id, name);
      });
  lead::WorkScheduler scheduler(rs, &commands);

  lead::LeadServiceImpl service(&commands, rs);
  // Parked events apply again at start: deploying a fix replays them.
  ops::OpsServiceImpl ops({&lead_list_runner, &customers_runner}, {&customer_consumer});
  if (auto left = ops.ReplayParkedAtStart(); !left.ok()) {
    LogError("cannot replay parked events", {{"error", left.status().ToString()}});
    return 1;
  }
  runtime::Server server(*config, "lead", "127.0.0.1:50051");
  server.AddReadinessCheck([&customer_consumer] { return customer_consumer.caught_up(); });
  server.AddService(&service);
  server.AddService(&ops);
  bus::AddLogGauges(server, es, relay);
  server.AddGauge("crm_projection_lag_events", "Log events not yet applied to lead_list.",
                  [es, &tailer] { return double(es->LastPosition() - tailer.position()); });
  server.AddGauge("crm_projection_parked_events", "Events the lead projections parked.", [&] {
    return double(lead_list_runner.stats().parked + customers_runner.stats().parked);
  });
  server.AddGauge("crm_lead_work_actions", "Leads returned or assigned by the work scheduler.",
                  [&scheduler] { return double(scheduler.actions()); });

  if (absl::Status s = tailer.CatchUp(); !s.ok()) {
    LogError("cannot catch up the lead list", {{"error", s.ToString()}});
    return 1;
  }
  tailer.Start();
  relay.Start();
  customer_consumer.Start();
  auto period = config->GetInt("work-check-seconds", 30);
  scheduler.Start(absl::Seconds(period.ok() ? *period : 30));
  if (absl::Status s = server.Start(); !s.ok()) {
    LogError("cannot start", {{"error", s.ToString()}});
    return 1;
  }
  server.WaitForTermination();
  scheduler.Stop();
  customer_consumer.Stop();
  relay.Stop();
  tailer.Stop();
  return 0;
}
