#include "libs/runtime/log.h"

#include <cstdio>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace crm {
namespace {

std::mutex& LogMutex() {
  static auto* mu = new std::mutex;
  return *mu;
}

std::string& ServiceName() {
  static auto* name = new std::string("crm");
  return *name;
}

void Write(absl::string_view level, absl::string_view msg, LogFields fields) {
  std::string line = absl::StrCat(
      "{\"ts\":\"", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
      "\",\"level\":\"", level, "\",\"service\":", JsonQuote(ServiceName()),
      ",\"msg\":", JsonQuote(msg));
  for (const auto& [k, v] : fields) absl::StrAppend(&line, ",", JsonQuote(k), ":", JsonQuote(v));
  line += "}\n";
  std::lock_guard<std::mutex> lock(LogMutex());
  fwrite(line.data(), 1, line.size(), stderr);
  fflush(stderr);
}

}  // namespace

void SetLogService(absl::string_view service) {
  std::lock_guard<std::mutex> lock(LogMutex());
  ServiceName() = std::string(service);
}

void LogInfo(absl::string_view msg, LogFields fields) { Write("info", msg, fields); }
void LogWarn(absl::string_view msg, LogFields fields) { Write("warn", msg, fields); }
void LogError(absl::string_view msg, LogFields fields) { Write("error", msg, fields); }

std::string JsonQuote(absl::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += "\"";
  return out;
}

}  // namespace crm
