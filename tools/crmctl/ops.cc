// crmctl's operator commands (progress, parked events) and `call`, any RPC by name (the usage is in
// main.cc).

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "crm/ops/v1/ops_service.grpc.pb.h"
#include "libs/clock/timestamp.h"
#include "tools/crmctl/commands.h"

namespace crm::crmctl {

namespace {

// crmctl ops progress SERVICE [--wait]: how far the service's consumers
// have read their topics (a rebuild, a catch-up); with --wait, until all
// are caught up, as a bar with rate and ETA on a terminal, plain lines
// otherwise.
int OpsProgress(Client& c, const Args& a, crm::ops::v1::OpsService::Stub& stub) {
  const bool wait = a.Has("wait");
  const bool tty = isatty(fileno(stderr));
  for (absl::Time last_line = absl::InfinitePast();;) {
    grpc::ClientContext ctx;
    c.Prepare(ctx);
    crm::ops::v1::ProjectionProgress resp;
    grpc::Status s = stub.GetProjectionProgress(&ctx, {}, &resp);
    if (!s.ok()) return Fail(s);
    int64_t events = 0, left = 0;
    double rate = 0, eta = 0;
    bool done = true;
    for (const auto& p : resp.consumers()) {
      events += p.catch_up_events();
      left += p.catch_up_left();
      rate += p.events_per_second();
      eta = std::max(eta, p.eta_seconds());
      done = done && p.caught_up();
    }
    if (!wait) {
      if (c.json()) {
        c.Print(resp);
        return 0;
      }
      std::cout << absl::StrFormat("%-32s %-28s %-9s %12s %12s %10s %8s\n", "projection", "topic",
                                   "state", "catch-up", "left", "events/s", "eta s");
      for (const auto& p : resp.consumers()) {
        std::cout << absl::StrFormat("%-32s %-28s %-9s %12d %12d %10.0f %8.0f\n", p.projection(),
                                     p.topic(), p.caught_up() ? "caught-up" : "reading",
                                     p.catch_up_events(), p.catch_up_left(), p.events_per_second(),
                                     p.eta_seconds());
      }
      return 0;
    }
    const int percent =
        events == 0 ? (done ? 100 : 0) : static_cast<int>((events - left) * 100 / events);
    if (tty) {
      std::cerr << absl::StrFormat("\r[%-30s] %3d%% %d/%d events %8.0f/s ETA %4.0fs",
                                   std::string(percent * 30 / 100, '#'), percent, events - left,
                                   events, rate, eta);
    } else if (done || absl::Now() - last_line >= absl::Seconds(5)) {
      last_line = absl::Now();
      std::cerr << absl::StrFormat("progress: %d%% (%d/%d events), %.0f events/s, ETA %.0f s\n",
                                   percent, events - left, events, rate, eta);
    }
    if (done) {
      if (tty) std::cerr << "\n";
      std::cout << "caught up\n";
      return 0;
    }
    absl::SleepFor(absl::Milliseconds(500));
  }
}

// The services by their short name: default address and gRPC service.
const std::map<std::string, std::pair<std::string, std::string>> kServices = {
    {"lead", {"127.0.0.1:50051", "crm.lead.v1.LeadService"}},
    {"customer", {"127.0.0.1:50052", "crm.customer.v1.CustomerService"}},
    {"opportunity", {"127.0.0.1:50053", "crm.opportunity.v1.OpportunityService"}},
    {"contract", {"127.0.0.1:50054", "crm.contract.v1.ContractService"}},
    {"analytics", {"127.0.0.1:50055", "crm.analytics.v1.AnalyticsService"}}};

// A channel to `service` (a kServices name) at --SERVICE / CRM_SERVICE_ADDR.
std::shared_ptr<grpc::Channel> ServiceChannel(const Args& a, const std::string& service) {
  return grpc::CreateChannel(a.Flag(service, "CRM_" + absl::AsciiStrToUpper(service) + "_ADDR",
                                    kServices.at(service).first),
                             Credentials(a));
}

}  // namespace

// crmctl call SERVICE METHOD [JSON]: any RPC of any service by name, the
// request as proto JSON (the argument, else standard input), the response
// printed as JSON: for the RPCs without a command of their own.
int CallCommand(Client& c, const Args& a) {
  namespace pb = google::protobuf;
  if (a.words.size() < 3 || !kServices.count(a.words[1])) {
    std::cerr << "usage: crmctl call lead|customer|opportunity|contract|analytics METHOD [JSON]\n";
    return 2;
  }
  const std::string& service = kServices.at(a.words[1]).second;
  const pb::ServiceDescriptor* sd =
      pb::DescriptorPool::generated_pool()->FindServiceByName(service);
  const pb::MethodDescriptor* m = sd == nullptr ? nullptr : sd->FindMethodByName(a.words[2]);
  if (m == nullptr || m->client_streaming() || m->server_streaming()) {
    std::cerr << "error: " << service << " has no unary method " << a.words[2] << "; it has:";
    for (int i = 0; sd != nullptr && i < sd->method_count(); ++i) {
      std::cerr << " " << sd->method(i)->name();
    }
    std::cerr << "\n";
    return 2;
  }
  std::string json = a.words.size() > 3 ? a.words[3]
                                        : std::string(std::istreambuf_iterator<char>(std::cin),
                                                      std::istreambuf_iterator<char>());
  if (absl::StripAsciiWhitespace(json).empty()) json = "{}";
  auto* factory = pb::MessageFactory::generated_factory();
  std::unique_ptr<pb::Message> req(factory->GetPrototype(m->input_type())->New());
  if (auto st = pb::util::JsonStringToMessage(json, req.get()); !st.ok()) {
    std::cerr << "error: the request is not a " << m->input_type()->full_name()
              << " in JSON: " << st.message() << "\n";
    return 2;
  }
  grpc::ClientContext ctx;
  c.Prepare(ctx);
  std::string raw;
  grpc::Status s =
      crm::rpc::RawCall(ctx, ServiceChannel(a, a.words[1]), "/" + service + "/" + m->name(),
                        req->SerializeAsString(), &raw);
  if (!s.ok()) return Fail(s);
  std::unique_ptr<pb::Message> resp(factory->GetPrototype(m->output_type())->New());
  if (!resp->ParseFromString(raw)) {
    std::cerr << "error: the response is not a " << m->output_type()->full_name() << "\n";
    return 1;
  }
  c.Print(*resp);
  return 0;
}

// crmctl ops parked SERVICE [--projection=P]: what the service's projections
// parked, with the error (admin).
int OpsCommand(Client& c, const Args& a) {
  if (a.words.size() < 3 || (a.words[1] != "parked" && a.words[1] != "progress") ||
      !kServices.count(a.words[2])) {
    std::cerr << "usage: crmctl ops parked lead|customer|opportunity|contract|analytics "
                 "[--projection=P]\n"
                 "       crmctl ops progress lead|customer|opportunity|contract|analytics "
                 "[--wait]\n";
    return 2;
  }
  const std::string& service = a.words[2];
  auto stub = crm::ops::v1::OpsService::NewStub(ServiceChannel(a, service));
  if (a.words[1] == "progress") return OpsProgress(c, a, *stub);
  grpc::ClientContext ctx;
  c.Prepare(ctx);
  crm::ops::v1::ListParkedEventsRequest req;
  req.set_projection(a.Flag("projection", "", ""));
  crm::ops::v1::ListParkedEventsResponse resp;
  grpc::Status s = stub->ListParkedEvents(&ctx, req, &resp);
  if (!s.ok()) return Fail(s);
  if (c.json()) {
    c.Print(resp);
    return 0;
  }
  std::cout << service << " projections: " << absl::StrJoin(resp.projections(), ", ") << "\n";
  if (resp.events().empty()) std::cout << "nothing parked\n";
  for (const auto& p : resp.events()) {
    std::cout << absl::StrFormat(
        "%-24s %s[%d]@%d %s: %s\n", p.projection(), p.source(), p.partition(), p.offset(),
        p.event().type().empty() ? "(undecoded)" : p.event().type(), p.error());
  }
  return 0;
}

}  // namespace crm::crmctl
