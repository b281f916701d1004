#include "services/analytics/projection/lead_counts.h"

#include "crm/lead/events/v1/lead_events.pb.h"
#include "gtest/gtest.h"
#include "libs/testing/temp_dir.h"

namespace crm::analytics {
namespace {

readstore::Envelope Created(int64_t offset, const std::string& tenant, const std::string& lead,
                            const std::string& channel) {
  crm::lead::events::v1::LeadCreated c;
  c.set_lead_id(lead);
  c.set_channel_id(channel);
  readstore::Envelope e;
  e.source = "crm.lead.events.v1";
  e.offset = offset;
  e.event.set_tenant(tenant);
  e.event.set_stream_id(lead);
  e.event.set_version(1);
  e.event.set_type(c.GetDescriptor()->full_name());
  e.event.set_payload(c.SerializeAsString());
  return e;
}

TEST(LeadCountsTest, CountsPerTenantAndChannelOnce) {
  test::TempDir dir;
  auto store = *readstore::ReadStore::Open(dir.path());
  LeadCountsProjection projection;
  readstore::ProjectionRunner runner(store.get(), &projection);
  ASSERT_TRUE(runner
                  .ApplyBatch({Created(0, "t1", "a", "web"), Created(1, "t1", "b", "web"),
                               Created(2, "t1", "c", "fair"), Created(3, "t2", "d", "web")})
                  .ok());
  // Redelivered at new offsets: counted once.
  ASSERT_TRUE(runner.ApplyBatch({Created(4, "t1", "a", "web")}).ok());
  auto t1 = *LeadCountsByChannel(store.get(), "t1");
  ASSERT_EQ(t1.size(), 2u);
  EXPECT_EQ(t1[0], (std::pair<std::string, int64_t>{"fair", 1}));
  EXPECT_EQ(t1[1], (std::pair<std::string, int64_t>{"web", 2}));
  auto t2 = *LeadCountsByChannel(store.get(), "t2");
  ASSERT_EQ(t2.size(), 1u);
  EXPECT_EQ(t2[0].second, 1);
  EXPECT_TRUE(LeadCountsByChannel(store.get(), "t3")->empty());
}

TEST(LeadCountsTest, UnknownEventTypeIsParked) {
  test::TempDir dir;
  auto store = *readstore::ReadStore::Open(dir.path());
  LeadCountsProjection projection;
  readstore::ProjectionRunner runner(store.get(), &projection);
  readstore::Envelope e = Created(0, "t1", "a", "web");
  e.event.set_type("crm.lead.events.v1.SomethingNew");
  ASSERT_TRUE(runner.ApplyBatch({e, Created(1, "t1", "b", "web")}).ok());
  EXPECT_EQ(runner.stats().parked, 1);
  EXPECT_EQ((*LeadCountsByChannel(store.get(), "t1"))[0].second, 1);
}

}  // namespace
}  // namespace crm::analytics
