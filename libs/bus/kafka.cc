#include "libs/bus/kafka.h"

#include <cstdio>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "libs/runtime/log.h"

namespace crm::bus {

absl::string_view FormatCeTime(const google::protobuf::Timestamp& t, char (&out)[kCeTimeSize]) {
  // Outside years 1970-9999 or not normalized: the general formatter.
  if (t.seconds() < 0 || t.seconds() >= 253402300800 || t.nanos() < 0 || t.nanos() > 999'999'999) {
    const absl::Time time = absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
    const std::string s = absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", time, absl::UTCTimeZone());
    return absl::string_view(out, s.copy(out, sizeof(out)));
  }
  const int64_t days = t.seconds() / 86400;
  const int64_t secs = t.seconds() % 86400;
  // Civil date from days since 1970-01-01 (the proleptic Gregorian calendar
  // in 400-year eras, March-based years).
  const int64_t z = days + 719468;
  const int64_t era = z / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  auto put = [&out](size_t at, int64_t value, int digits) {
    for (int i = digits - 1; i >= 0; --i, value /= 10)
      out[at + i] = static_cast<char>('0' + value % 10);
  };
  put(0, year, 4);
  out[4] = '-';
  put(5, month, 2);
  out[7] = '-';
  put(8, day, 2);
  out[10] = 'T';
  put(11, secs / 3600, 2);
  out[13] = ':';
  put(14, secs / 60 % 60, 2);
  out[16] = ':';
  put(17, secs % 60, 2);
  out[19] = '.';
  put(20, t.nanos() / 1000, 6);
  out[26] = 'Z';
  return absl::string_view(out, 27);
}

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
