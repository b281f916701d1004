#ifndef CRM_TOOLS_SCHEMA_SCHEMA_H_
#define CRM_TOOLS_SCHEMA_SCHEMA_H_

// The event schemas BI consumers rely on, read from the build's protobuf
// descriptor set (FileDescriptorSet, with source comments): every message
// and enum of the `*.events.v1` packages.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/descriptor.h"

namespace crm::schema {

// Every file of `path` built into a pool, in the set's order.
absl::StatusOr<std::unique_ptr<google::protobuf::DescriptorPool>> LoadDescriptorSet(
    const std::string& path);

// One line per message, field (number, type, label), enum and enum value of
// the event packages, sorted. A change is additive when every line of the
// old schema is still a line of the new one.
std::vector<std::string> EventSchemaLines(const google::protobuf::DescriptorPool& pool);

// The lines of `before` that `after` lacks: what a change removed or altered.
std::vector<std::string> Removed(const std::vector<std::string>& before,
                                 const std::vector<std::string>& after);

// The event reference as Markdown, from the protos' comments: per package,
// every message with its fields and every enum with its values.
std::string EventReference(const google::protobuf::DescriptorPool& pool);

// The API reference as Markdown, from the protos' comments: per service its
// RPCs, then every message and enum of its package, then the error reasons
// (crm.errors.v1.ErrorReason).
std::string ApiReference(const google::protobuf::DescriptorPool& pool);

// The names of crm.errors.v1.ErrorReason's values but the unspecified one.
std::vector<std::string> ErrorReasons(const google::protobuf::DescriptorPool& pool);

}  // namespace crm::schema

#endif  // CRM_TOOLS_SCHEMA_SCHEMA_H_
