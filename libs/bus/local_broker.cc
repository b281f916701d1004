#include "libs/bus/local_broker.h"

#include "absl/strings/str_cat.h"

namespace crm::bus {

absl::StatusOr<std::unique_ptr<LocalBroker>> LocalBroker::Start(int brokers,
                                                                std::vector<std::string> topics,
                                                                int partitions) {
  if (topics.empty()) {
    for (const auto& s : ServiceNames()) topics.push_back(TopicFor(s));
  }
  std::unique_ptr<LocalBroker> b(new LocalBroker);
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
  UseProjectLog(conf);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(absl::StrCat("mock host: ", err));
  }
  b->host_.reset(rk);
  b->mock_ = rd_kafka_mock_cluster_new(rk, brokers);
  if (!b->mock_) return absl::InternalError("cannot create the mock cluster");
  for (const auto& t : topics) {
    rd_kafka_resp_err_t e =
        rd_kafka_mock_topic_create(b->mock_, t.c_str(), partitions, std::min(brokers, 3));
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::InternalError(absl::StrCat("create topic ", t, ": ", rd_kafka_err2str(e)));
    }
  }
  return b;
}

LocalBroker::~LocalBroker() {
  if (mock_) rd_kafka_mock_cluster_destroy(mock_);
}

std::string LocalBroker::bootstrap() const { return rd_kafka_mock_cluster_bootstraps(mock_); }

}  // namespace crm::bus
