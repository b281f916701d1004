#include "tools/schema/schema.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.pb.h"

namespace crm::schema {
namespace {

namespace pb = google::protobuf;

// The files of the event packages, one per topic.
constexpr const char* kEventFiles[] = {"crm/lead/events/v1/lead_events.proto",
                                       "crm/customer/events/v1/customer_events.proto",
                                       "crm/opportunity/events/v1/opportunity_events.proto",
                                       "crm/contract/events/v1/contract_events.proto"};

std::string TypeOf(const pb::FieldDescriptor* f) {
  if (f->is_map()) {
    return absl::StrCat("map<", TypeOf(f->message_type()->map_key()), ", ",
                        TypeOf(f->message_type()->map_value()), ">");
  }
  if (f->message_type()) return f->message_type()->full_name();
  if (f->enum_type()) return f->enum_type()->full_name();
  return f->type_name();
}

std::string LabelOf(const pb::FieldDescriptor* f) {
  if (f->is_map()) return "map";
  if (f->is_repeated()) return "repeated";
  if (f->real_containing_oneof()) return "oneof " + f->real_containing_oneof()->name();
  return f->has_presence() && !f->message_type() ? "optional" : "singular";
}

// The leading comment of a declaration, on one line.
template <typename Descriptor>
std::string Comment(const Descriptor* d) {
  pb::SourceLocation where;
  if (!d->GetSourceLocation(&where)) return "";
  std::string text(absl::StripAsciiWhitespace(where.leading_comments));
  absl::StrReplaceAll({{"\n ", " "}, {"\n", " "}, {"|", "\\|"}}, &text);
  return text;
}

void MessageLines(const pb::Descriptor* m, std::vector<std::string>& out) {
  if (m->options().map_entry()) return;
  out.push_back(absl::StrCat("message ", m->full_name()));
  for (int i = 0; i < m->field_count(); ++i) {
    const pb::FieldDescriptor* f = m->field(i);
    out.push_back(absl::StrCat("field ", m->full_name(), ".", f->name(), " = ", f->number(), " ",
                               TypeOf(f), " ", LabelOf(f)));
  }
  for (int i = 0; i < m->nested_type_count(); ++i) MessageLines(m->nested_type(i), out);
  for (int i = 0; i < m->enum_type_count(); ++i) {
    const pb::EnumDescriptor* e = m->enum_type(i);
    out.push_back(absl::StrCat("enum ", e->full_name()));
    for (int j = 0; j < e->value_count(); ++j) {
      out.push_back(absl::StrCat("value ", e->full_name(), ".", e->value(j)->name(), " = ",
                                 e->value(j)->number()));
    }
  }
}

// The files of the services' APIs, in the order of the reference.
constexpr const char* kApiFiles[] = {"crm/lead/v1/lead_service.proto",
                                     "crm/customer/v1/customer_service.proto",
                                     "crm/opportunity/v1/opportunity_service.proto",
                                     "crm/contract/v1/contract_service.proto",
                                     "crm/analytics/v1/analytics_service.proto",
                                     "crm/ops/v1/ops_service.proto"};
constexpr char kErrorsFile[] = "crm/errors/v1/errors.proto";

// A message's fields as a Markdown table (nothing when it has none).
void FieldTable(const pb::Descriptor* m, std::ostringstream& md) {
  if (m->field_count() == 0) return;
  md << "| # | field | type | meaning |\n|---|---|---|---|\n";
  for (int j = 0; j < m->field_count(); ++j) {
    const pb::FieldDescriptor* fd = m->field(j);
    md << "| " << fd->number() << " | `" << fd->name() << "` | "
       << (fd->is_repeated() && !fd->is_map() ? "repeated " : "") << TypeOf(fd) << " | "
       << Comment(fd) << " |\n";
  }
  md << "\n";
}

void EnumTable(const pb::EnumDescriptor* e, std::ostringstream& md) {
  md << "| value | name | meaning |\n|---|---|---|\n";
  for (int j = 0; j < e->value_count(); ++j) {
    md << "| " << e->value(j)->number() << " | `" << e->value(j)->name() << "` | "
       << Comment(e->value(j)) << " |\n";
  }
  md << "\n";
}

// A message, its nested messages and enums, headed by full name.
void ApiMessage(const pb::Descriptor* m, std::ostringstream& md) {
  if (m->options().map_entry()) return;
  md << "#### " << m->full_name() << "\n\n";
  if (const std::string c = Comment(m); !c.empty()) md << c << "\n\n";
  FieldTable(m, md);
  for (int i = 0; i < m->nested_type_count(); ++i) ApiMessage(m->nested_type(i), md);
  for (int i = 0; i < m->enum_type_count(); ++i) {
    md << "#### enum " << m->enum_type(i)->full_name() << "\n\n";
    if (const std::string c = Comment(m->enum_type(i)); !c.empty()) md << c << "\n\n";
    EnumTable(m->enum_type(i), md);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<pb::DescriptorPool>> LoadDescriptorSet(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  pb::FileDescriptorSet set;
  if (!in || !set.ParseFromIstream(&in)) {
    return absl::NotFoundError("cannot read a FileDescriptorSet from " + path);
  }
  auto pool = std::make_unique<pb::DescriptorPool>();
  for (const auto& file : set.file()) {
    if (pool->BuildFile(file) == nullptr) {
      return absl::InvalidArgumentError("cannot build " + file.name() + " from " + path);
    }
  }
  return pool;
}

std::vector<std::string> EventSchemaLines(const pb::DescriptorPool& pool) {
  std::vector<std::string> out;
  for (const char* name : kEventFiles) {
    const pb::FileDescriptor* f = pool.FindFileByName(name);
    if (f == nullptr) {
      out.push_back(absl::StrCat("missing file ", name));
      continue;
    }
    for (int i = 0; i < f->message_type_count(); ++i) MessageLines(f->message_type(i), out);
    for (int i = 0; i < f->enum_type_count(); ++i) {
      const pb::EnumDescriptor* e = f->enum_type(i);
      out.push_back(absl::StrCat("enum ", e->full_name()));
      for (int j = 0; j < e->value_count(); ++j) {
        out.push_back(absl::StrCat("value ", e->full_name(), ".", e->value(j)->name(), " = ",
                                   e->value(j)->number()));
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> Removed(const std::vector<std::string>& before,
                                 const std::vector<std::string>& after) {
  std::vector<std::string> a = after, b = before, out;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(out));
  return out;
}

std::string ApiReference(const pb::DescriptorPool& pool) {
  std::ostringstream md;
  for (const char* name : kApiFiles) {
    const pb::FileDescriptor* f = pool.FindFileByName(name);
    if (f == nullptr) continue;
    for (int s = 0; s < f->service_count(); ++s) {
      const pb::ServiceDescriptor* svc = f->service(s);
      md << "## " << svc->full_name() << "\n\n"
         << "`" << f->name() << "`\n\n";
      if (const std::string c = Comment(svc); !c.empty()) md << c << "\n\n";
      md << "| rpc | request | response | what it does |\n|---|---|---|---|\n";
      for (int i = 0; i < svc->method_count(); ++i) {
        const pb::MethodDescriptor* m = svc->method(i);
        md << "| `" << m->name() << "` | " << (m->client_streaming() ? "stream " : "")
           << m->input_type()->full_name() << " | " << (m->server_streaming() ? "stream " : "")
           << m->output_type()->full_name() << " | " << Comment(m) << " |\n";
      }
      md << "\n";
    }
    md << "### Messages of `" << f->package() << "`\n\n";
    for (int i = 0; i < f->message_type_count(); ++i) ApiMessage(f->message_type(i), md);
    for (int i = 0; i < f->enum_type_count(); ++i) {
      md << "#### enum " << f->enum_type(i)->full_name() << "\n\n";
      if (const std::string c = Comment(f->enum_type(i)); !c.empty()) md << c << "\n\n";
      EnumTable(f->enum_type(i), md);
    }
  }
  if (const pb::EnumDescriptor* reasons = pool.FindEnumTypeByName("crm.errors.v1.ErrorReason")) {
    md << "## Error reasons (`" << kErrorsFile << "`)\n\n";
    if (const std::string c = Comment(reasons); !c.empty()) md << c << "\n\n";
    EnumTable(reasons, md);
  }
  return md.str();
}

std::vector<std::string> ErrorReasons(const pb::DescriptorPool& pool) {
  std::vector<std::string> out;
  const pb::EnumDescriptor* e = pool.FindEnumTypeByName("crm.errors.v1.ErrorReason");
  if (e == nullptr) return out;
  for (int i = 0; i < e->value_count(); ++i) {
    if (e->value(i)->number() != 0) out.push_back(e->value(i)->name());
  }
  return out;
}

std::string EventReference(const pb::DescriptorPool& pool) {
  std::ostringstream md;
  for (const char* name : kEventFiles) {
    const pb::FileDescriptor* f = pool.FindFileByName(name);
    if (f == nullptr) continue;
    md << "### `" << f->package() << "` (" << f->name() << ")\n\n";
    for (int i = 0; i < f->message_type_count(); ++i) {
      const pb::Descriptor* m = f->message_type(i);
      md << "#### " << m->name() << "\n\n";
      if (const std::string c = Comment(m); !c.empty()) md << c << "\n\n";
      FieldTable(m, md);
    }
    for (int i = 0; i < f->enum_type_count(); ++i) {
      const pb::EnumDescriptor* e = f->enum_type(i);
      md << "#### enum " << e->name() << "\n\n";
      if (const std::string c = Comment(e); !c.empty()) md << c << "\n\n";
      EnumTable(e, md);
    }
  }
  return md.str();
}

}  // namespace crm::schema
