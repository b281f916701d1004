#ifndef CRM_LIBS_TESTING_ANSWER_H_
#define CRM_LIBS_TESTING_ANSWER_H_

#include <string>

#include "absl/status/statusor.h"

namespace crm::test {

// An answer's bytes, or its error: two answers are the same iff these are.
template <typename Message>
std::string AnswerBytes(const absl::StatusOr<Message>& answer) {
  return answer.ok() ? answer->SerializeAsString() : answer.status().ToString();
}

}  // namespace crm::test

#endif  // CRM_LIBS_TESTING_ANSWER_H_
