#ifndef CRM_LIBS_BUS_LOCAL_BROKER_H_
#define CRM_LIBS_BUS_LOCAL_BROKER_H_

// LocalBroker hosts librdkafka's mock cluster: real Kafka protocol over TCP on
// 127.0.0.1, memory only, with every service topic created. Used by the
// local-broker tool and by tests; services cannot tell it from Kafka.

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/bus/kafka.h"

namespace crm::bus {

class LocalBroker {
 public:
  // Starts `brokers` brokers and creates `topics` (default: every service's)
  // with `partitions` partitions each.
  static absl::StatusOr<std::unique_ptr<LocalBroker>> Start(int brokers = 3,
                                                            std::vector<std::string> topics = {},
                                                            int partitions = kLocalPartitions);
  ~LocalBroker();

  // Comma-separated host:port list for bootstrap.servers.
  std::string bootstrap() const;
  rd_kafka_mock_cluster_t* mock() { return mock_; }

 private:
  LocalBroker() = default;
  RdKafkaPtr host_;
  rd_kafka_mock_cluster_t* mock_ = nullptr;
};

}  // namespace crm::bus

#endif  // CRM_LIBS_BUS_LOCAL_BROKER_H_
