// crm-schema: what the event schemas are, from the build's descriptor set.
//
//   crm-schema lines DESCRIPTOR_SET       one line per message, field, enum, value
//   crm-schema reference DESCRIPTOR_SET   the event reference in Markdown
//   crm-schema api DESCRIPTOR_SET         the API reference in Markdown
//
// proto/events.schema.txt is `lines` at the last schema change; the schema
// test fails when a line of it disappears (events change only additively).
// docs/events.md carries `reference` and docs/api.md `api` between their
// generated markers.

#include <iostream>

#include "tools/schema/schema.h"

int main(int argc, char** argv) {
  const std::string mode = argc == 3 ? argv[1] : "";
  if (mode != "lines" && mode != "reference" && mode != "api") {
    std::cerr << "usage: crm-schema lines|reference|api DESCRIPTOR_SET\n";
    return 2;
  }
  auto pool = crm::schema::LoadDescriptorSet(argv[2]);
  if (!pool.ok()) {
    std::cerr << pool.status() << "\n";
    return 1;
  }
  if (mode == "lines") {
    for (const auto& line : crm::schema::EventSchemaLines(**pool)) std::cout << line << "\n";
  } else if (mode == "reference") {
    std::cout << crm::schema::EventReference(**pool);
  } else {
    std::cout << crm::schema::ApiReference(**pool);
  }
  return 0;
}
