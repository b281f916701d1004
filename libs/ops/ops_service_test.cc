// The operators' API over real gRPC: parked events are listed for admins,
// and applied again at start once the projection can take them.

#include "libs/ops/ops_service.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/rpc/rpc.h"
#include "libs/testing/grpc.h"
#include "libs/testing/temp_dir.h"

namespace crm::ops {
namespace {

// Refuses "poison" payloads until fixed.
class PickyProjection : public readstore::Projection {
 public:
  std::string name() const override { return "picky"; }
  absl::Status Apply(const readstore::StoredEvent& e, readstore::RowWriter& rows) override {
    if (e.payload() == "poison" && !fixed) return absl::InvalidArgumentError("cannot apply poison");
    rows.Put("applied/" + e.event_id(), e.payload());
    return absl::OkStatus();
  }
  bool fixed = false;
};

readstore::Envelope Event(int64_t offset, const std::string& payload,
                          const std::string& tenant = "acme") {
  readstore::Envelope e;
  e.source = "crm.test.events.v1";
  e.offset = offset;
  e.event.set_tenant(tenant);
  e.event.set_stream_id("s1");
  e.event.set_version(offset + 1);
  e.event.set_event_id(absl::StrCat("e", offset));
  e.event.set_type("crm.test.Event");
  e.event.set_payload(payload);
  return e;
}

TEST(OpsServiceTest, AdminsSeeParkedEventsAndAFixReplaysThemAtStart) {
  test::TempDir dir;
  auto store = *readstore::ReadStore::Open(dir.path());
  PickyProjection projection;
  readstore::ProjectionRunner runner(store.get(), &projection);
  ASSERT_TRUE(runner.ApplyBatch({Event(0, "ok"), Event(1, "poison"), Event(2, "ok")}).ok());
  ASSERT_EQ(runner.stats().parked, 1);

  OpsServiceImpl service({&runner});
  int port = 0;
  auto server = test::Serve(&service, &port);
  auto stub = v1::OpsService::NewStub(test::ChannelTo(port));
  auto list = [&](const std::string& roles, const std::string& name,
                  v1::ListParkedEventsResponse* out, const std::string& tenant = "acme") {
    grpc::ClientContext ctx;
    test::Authorize(ctx, "ops", tenant, roles);
    v1::ListParkedEventsRequest req;
    req.set_projection(name);
    return stub->ListParkedEvents(&ctx, req, out);
  };
  v1::ListParkedEventsResponse resp;
  EXPECT_EQ(list("", "", &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(list("admin", "", &resp).ok());
  ASSERT_EQ(resp.events_size(), 1);
  EXPECT_EQ(resp.events(0).event().event_id(), "e1");
  EXPECT_EQ(resp.events(0).error(), "INVALID_ARGUMENT: cannot apply poison");
  EXPECT_EQ(resp.projections(0), "picky");
  v1::ListParkedEventsResponse none;
  EXPECT_EQ(list("admin", "other", &none).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Another tenant's admin sees none of acme's; the platform operator does.
  v1::ListParkedEventsResponse foreign, operated;
  ASSERT_TRUE(list("admin", "", &foreign, "globex").ok());
  EXPECT_EQ(foreign.events_size(), 0);
  ASSERT_TRUE(list("operator", "", &operated, "platform").ok());
  EXPECT_EQ(operated.events_size(), 1);

  // Unfixed, a restart replays nothing away; fixed, the event applies.
  EXPECT_EQ(*service.ReplayParkedAtStart(), 1);
  projection.fixed = true;
  EXPECT_EQ(*service.ReplayParkedAtStart(), 0);
  EXPECT_EQ(**store->Get("applied/e1"), "poison");
  v1::ListParkedEventsResponse after;
  ASSERT_TRUE(list("admin", "picky", &after).ok());
  EXPECT_EQ(after.events_size(), 0);
  server->Shutdown();
}

TEST(OpsServiceTest, AnAdminsPageHoldsTheirParkedEventsWhateverOtherTenantsParkedFirst) {
  test::TempDir dir;
  auto store = *readstore::ReadStore::Open(dir.path());
  PickyProjection projection;
  readstore::ProjectionRunner runner(store.get(), &projection);
  std::vector<readstore::Envelope> batch = {
      Event(0, "poison", "globex"), Event(1, "poison", "globex"), Event(2, "poison", "acme")};
  for (auto& e : batch) {  // one aggregate each
    e.event.set_stream_id(e.event.event_id());
    e.event.set_version(1);
  }
  ASSERT_TRUE(runner.ApplyBatch(batch).ok());
  ASSERT_EQ(runner.stats().parked, 3);
  OpsServiceImpl service({&runner});
  int port = 0;
  auto server = test::Serve(&service, &port);
  auto stub = v1::OpsService::NewStub(test::ChannelTo(port));
  grpc::ClientContext ctx;
  test::Authorize(ctx, "ops", "acme", "admin");
  v1::ListParkedEventsRequest req;
  req.set_page_size(1);
  v1::ListParkedEventsResponse resp;
  ASSERT_TRUE(stub->ListParkedEvents(&ctx, req, &resp).ok());
  ASSERT_EQ(resp.events_size(), 1);
  EXPECT_EQ(resp.events(0).event().event_id(), "e2");
  server->Shutdown();
}

}  // namespace
}  // namespace crm::ops
