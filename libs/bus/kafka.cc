#include "libs/bus/kafka.h"

#include <cstdio>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "libs/runtime/log.h"

namespace crm::bus {

std::string TopicFor(absl::string_view service) {
  return absl::StrCat("crm.", service, ".events.v1");
}

namespace {

std::string FileLine(const std::string& path, int index) {
  std::ifstream in(path);
  std::string line;
  for (int i = 0; i <= index; ++i) {
    if (!std::getline(in, line)) return "";
  }
  return std::string(absl::StripAsciiWhitespace(line));
}

}  // namespace

std::string KafkaOptions::Resolve() const {
  return bootstrap_file.empty() ? bootstrap : FileLine(bootstrap_file, 0);
}

std::string KafkaOptions::Instance() const {
  return bootstrap_file.empty() ? "" : FileLine(bootstrap_file, 1);
}

absl::Status WriteBootstrapFile(const std::string& path, absl::string_view bootstrap,
                                absl::string_view instance) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << bootstrap << "\n" << instance << "\n";
    if (!out) return absl::InternalError("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError("cannot rename " + tmp);
  }
  return absl::OkStatus();
}

void RdKafkaDeleter::operator()(rd_kafka_t* rk) const {
  if (rk) rd_kafka_destroy(rk);
}

void UseProjectLog(rd_kafka_conf_t* conf) {
  rd_kafka_conf_set_log_cb(conf, [](const rd_kafka_t* rk, int level, const char* fac,
                                    const char* buf) {
    const LogFields fields = {{"client", rd_kafka_name(rk)}, {"facility", fac}, {"detail", buf}};
    if (level <= 3) {
      LogError("kafka", fields);
    } else if (level <= 5) {
      LogWarn("kafka", fields);
    } else {
      LogInfo("kafka", fields);
    }
  });
}

absl::Status SetAll(rd_kafka_conf_t* conf, const std::map<std::string, std::string>& props) {
  char err[512];
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      return absl::InvalidArgumentError(absl::StrCat("kafka property ", k, ": ", err));
    }
  }
  return absl::OkStatus();
}

std::string ClusterIdentity(rd_kafka_t* rk, const KafkaOptions& options, int timeout_ms) {
  char* id = rd_kafka_clusterid(rk, timeout_ms);
  if (!id) return "";
  std::string out(id);
  rd_kafka_mem_free(rk, id);
  const std::string instance = options.Instance();
  if (!instance.empty()) absl::StrAppend(&out, "#", instance);
  return out;
}

}  // namespace crm::bus
