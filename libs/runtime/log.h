#ifndef CRM_LIBS_RUNTIME_LOG_H_
#define CRM_LIBS_RUNTIME_LOG_H_

// Structured logs: one JSON object per line on stderr, e.g.
// {"ts":"2026-11-23T05:00:00.123Z","level":"info","service":"lead","msg":"serving","port":"50051"}
// Thread-safe.

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace crm {

using LogFields = std::initializer_list<std::pair<absl::string_view, std::string>>;

// Names the process in every line; call once at start-up.
void SetLogService(absl::string_view service);

void LogInfo(absl::string_view msg, LogFields fields = {});
void LogWarn(absl::string_view msg, LogFields fields = {});
void LogError(absl::string_view msg, LogFields fields = {});

// `s` as a JSON string literal, quotes included.
std::string JsonQuote(absl::string_view s);

}  // namespace crm

#endif  // CRM_LIBS_RUNTIME_LOG_H_
