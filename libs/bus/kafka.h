#ifndef CRM_LIBS_BUS_KAFKA_H_
#define CRM_LIBS_BUS_KAFKA_H_

// Kafka settings in one place: topic names, the CloudEvents header names, and
// the librdkafka configuration every producer and consumer of the project uses.

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/timestamp.pb.h"

namespace crm::bus {

// The services that own a topic each.
inline const std::vector<std::string>& ServiceNames() {
  static const auto* names =
      new std::vector<std::string>{"lead", "customer", "opportunity", "contract", "analytics"};
  return *names;
}

// `crm.<service>.events.v1`.
std::string TopicFor(absl::string_view service);

// Partitions per topic in the local broker.
inline constexpr int kLocalPartitions = 4;

// Where the brokers are. `bootstrap_file` (local mode) names a file that the
// local broker rewrites when it starts: line 1 the bootstrap list, line 2 a
// token unique to that broker instance. Clients re-read it and reconnect when
// it changes. Otherwise `bootstrap` is used.
struct KafkaOptions {
  std::string bootstrap;
  std::string bootstrap_file;
  // Extra librdkafka properties, applied last.
  std::map<std::string, std::string> overrides;

  // The bootstrap list in force now ("" when the file is missing or empty).
  std::string Resolve() const;
  // The broker instance token from the file ("" without a file).
  std::string Instance() const;
};

// Writes a bootstrap file for KafkaOptions::bootstrap_file, atomically.
absl::Status WriteBootstrapFile(const std::string& path, absl::string_view bootstrap,
                                absl::string_view instance);

struct RdKafkaDeleter {
  void operator()(rd_kafka_t* rk) const;
};
using RdKafkaPtr = std::unique_ptr<rd_kafka_t, RdKafkaDeleter>;

// Sends librdkafka's log lines to the project's JSON log.
void UseProjectLog(rd_kafka_conf_t* conf);

// Sets `props` on `conf`; INVALID_ARGUMENT naming the property on failure.
absl::Status SetAll(rd_kafka_conf_t* conf, const std::map<std::string, std::string>& props);

// Identifies the cluster `rk` talks to: its cluster id plus the local broker's
// instance token (the mock cluster's id is not unique across restarts).
// "" if no broker answered in `timeout_ms`.
std::string ClusterIdentity(rd_kafka_t* rk, const KafkaOptions& options, int timeout_ms);

// CloudEvents Kafka binding (binary mode) header names, plus the project's.
inline constexpr char kCeId[] = "ce_id";
inline constexpr char kCeType[] = "ce_type";
inline constexpr char kCeSource[] = "ce_source";
inline constexpr char kCeSubject[] = "ce_subject";
inline constexpr char kCeTime[] = "ce_time";
inline constexpr char kCeSpecVersion[] = "ce_specversion";
inline constexpr char kContentType[] = "content-type";
inline constexpr char kTenantHeader[] = "crm_tenant";
inline constexpr char kVersionHeader[] = "crm_version";
inline constexpr char kPositionHeader[] = "crm_position";
inline constexpr char kActorHeader[] = "crm_actor";
inline constexpr char kActorServiceHeader[] = "crm_actor_service";

// ce_time's value: RFC 3339 UTC to the microsecond
// ("2026-12-03T10:22:44.143000Z"), written into `out` digit by digit
// (absl::FormatTime was a tenth of the relay's own time per event).
inline constexpr size_t kCeTimeSize = 40;
absl::string_view FormatCeTime(const google::protobuf::Timestamp& t, char (&out)[kCeTimeSize]);

}  // namespace crm::bus

#endif  // CRM_LIBS_BUS_KAFKA_H_
