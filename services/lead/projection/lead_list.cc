#include "services/lead/projection/lead_list.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/clock/timestamp.h"
#include "libs/eventstore/codec.h"
#include "libs/readstore/derive.h"
#include "libs/status/status.h"

namespace crm::lead {
namespace {

const std::string kSep(1, '\0');
const std::string kDuePrefix = "~lead-due" + kSep;
const std::string kQueuedPrefix = "~lead-queued" + kSep;

std::string Key(absl::string_view tenant, absl::string_view kind, absl::string_view rest) {
  return absl::StrCat(tenant, kSep, kind, kSep, rest);
}

v1::LeadState StateOf(LeadState s) {
  switch (s) {
    case LeadState::kQueued:
      return v1::LEAD_STATE_QUEUED;
    case LeadState::kAssigned:
      return v1::LEAD_STATE_ASSIGNED;
    case LeadState::kWorking:
      return v1::LEAD_STATE_WORKING;
    case LeadState::kConverted:
      return v1::LEAD_STATE_CONVERTED;
    case LeadState::kDisqualified:
      return v1::LEAD_STATE_DISQUALIFIED;
    case LeadState::kMerged:
      return v1::LEAD_STATE_MERGED;
    case LeadState::kRouted:
      return v1::LEAD_STATE_ROUTED;
    case LeadState::kNone:
      break;
  }
  return v1::LEAD_STATE_UNSPECIFIED;
}

// Grade A first, then higher scores: "<grade digit><999 - score>".
std::string PriorityRank(const Lead& lead) {
  const int grade = lead.grade == ev::GRADE_UNSPECIFIED ? 9 : static_cast<int>(lead.grade);
  const int inverse = 999 - std::max(0, std::min(999, static_cast<int>(lead.score)));
  return absl::StrCat(grade, absl::Dec(inverse, absl::kZeroPad3));
}

// Replaces the single row an index holds for a lead, tracked under `of_key`.
absl::Status ReplaceIndexRow(readstore::RowWriter& rows, const std::string& of_key,
                             const std::string& new_key) {
  ASSIGN_OR_RETURN(auto old, rows.Get(of_key));
  if (old && *old == new_key) return absl::OkStatus();
  if (old) rows.Delete(*old);
  if (new_key.empty()) {
    if (old) rows.Delete(of_key);
    return absl::OkStatus();
  }
  rows.Put(new_key, "");
  rows.Put(of_key, new_key);
  return absl::OkStatus();
}

}  // namespace

void ToProto(const Lead& lead, v1::Lead* out) {
  const LeadCreated& p = lead.profile;
  out->set_name("leads/" + lead.id);
  out->set_lead_id(lead.id);
  out->set_channel_id(p.channel_id());
  out->set_company_name(p.company_name());
  out->set_contact_name(p.contact_name());
  out->set_contact_title(p.contact_title());
  out->set_email(p.email());
  out->set_phone(p.phone());
  out->set_legal_entity_id(p.legal_entity_id());
  out->set_industry(p.industry());
  out->set_region(p.region());
  *out->mutable_qualification() = lead.qualification;
  out->set_state(StateOf(lead.state));
  *out->mutable_create_time() = p.create_time();
  out->set_created_by(p.created_by());
  out->set_etag(absl::StrCat(lead.version));
  out->set_score(lead.score);
  out->set_grade(lead.grade);
  for (const auto& t : lead.tags) out->add_tags(t);
  out->set_owner_id(lead.owner);
  if (lead.state == LeadState::kAssigned)
    *out->mutable_work_deadline() = ToTimestamp(lead.work_deadline);
  out->set_customer_id(lead.customer_id);
  out->set_opportunity_id(lead.opportunity_id);
  out->set_survivor_id(lead.survivor_id);
  *out->mutable_duplicates() = p.duplicates();
  out->set_disqualify_reason(lead.disqualify_reason);
  for (const auto& id : lead.merged_ids) out->add_merged_lead_ids(id);
  out->set_contact_erased(lead.contact_erased);
}

void ToProto(const ev::ChannelSaved& c, v1::Channel* out) {
  out->set_name("channels/" + c.channel_id());
  out->set_channel_id(c.channel_id());
  out->set_display_name(c.name());
  out->set_kind(c.kind());
  out->set_monthly_cost(c.monthly_cost());
  out->set_assign_mode(c.assign_mode());
  out->set_team_id(c.team_id());
  *out->mutable_update_time() = c.save_time();
}

absl::Status LeadListProjection::Apply(const readstore::StoredEvent& event,
                                       readstore::RowWriter& rows) {
  const std::string& tenant = event.tenant();
  const std::string& stream = event.stream_id();
  if (absl::StartsWith(stream, ChannelStreamId(""))) {
    ev::ChannelEvent e;
    RETURN_IF_ERROR(eventstore::FromStored(event.type(), event.payload(), &e));
    v1::Channel row;
    ToProto(e.saved(), &row);
    rows.Put(Key(tenant, "channel", e.saved().channel_id()), row.SerializeAsString());
    return absl::OkStatus();
  }
  if (!IsLeadStream(stream)) return absl::OkStatus();

  // Rebuilt from the stream as it stands: replaying an older event writes
  // the same rows again.
  Lead lead;
  lead.id = stream;
  ASSIGN_OR_RETURN(auto stored, store_->ReadStream({tenant, stream}));
  for (const auto& e : stored) {
    LeadEvent le;
    RETURN_IF_ERROR(eventstore::FromStored(e.type(), e.payload(), &le));
    lead = Evolve(std::move(lead), le);
  }
  if (!lead.exists()) return absl::OkStatus();
  if (event.type() == ev::LeadContactErased::descriptor()->full_name()) {
    rows.ScrubAfterCommit(tenant);
  }
  v1::Lead row;
  ToProto(lead, &row);
  rows.Put(Key(tenant, "lead", lead.id), row.SerializeAsString());

  RETURN_IF_ERROR(ReplaceIndexRow(
      rows, Key(tenant, "prio-of", lead.id),
      lead.open() ? Key(tenant, "prio", absl::StrCat(PriorityRank(lead), kSep, lead.id)) : ""));
  RETURN_IF_ERROR(ReplaceIndexRow(
      rows, Key(tenant, "due-of", lead.id),
      lead.state == LeadState::kAssigned
          ? absl::StrCat(kDuePrefix,
                         readstore::EncodeBigEndian64(absl::ToUnixMicros(lead.work_deadline)), kSep,
                         tenant, kSep, lead.id)
          : ""));
  RETURN_IF_ERROR(ReplaceIndexRow(
      rows, Key(tenant, "owned-of", lead.id),
      lead.owner.empty() ? "" : Key(tenant, "owned", absl::StrCat(lead.owner, kSep, lead.id))));
  RETURN_IF_ERROR(ReplaceIndexRow(
      rows, Key(tenant, "queued-of", lead.id),
      lead.state == LeadState::kQueued ? absl::StrCat(kQueuedPrefix, tenant, kSep, lead.id) : ""));

  // Match keys of open leads.
  const std::string keys_key = Key(tenant, "lmatch-keys", lead.id);
  ASSIGN_OR_RETURN(auto old_keys, rows.Get(keys_key));
  if (old_keys) {
    for (absl::string_view k : absl::StrSplit(*old_keys, '\n', absl::SkipEmpty())) {
      rows.Delete(Key(tenant, "lmatch", absl::StrCat(k, kSep, lead.id)));
    }
    rows.Delete(keys_key);
  }
  if (lead.open()) {
    const std::vector<std::string> keys = MatchKeys(lead.profile);
    for (const auto& k : keys) rows.Put(Key(tenant, "lmatch", absl::StrCat(k, kSep, lead.id)), "");
    if (!keys.empty()) rows.Put(keys_key, absl::StrJoin(keys, "\n"));
  }
  return absl::OkStatus();
}

absl::Status IndexStoredLeads(readstore::ReadStore* store) {
  return readstore::DeriveFromRows<v1::Lead>(
      store, "~indexed/lead-owner", "lead",
      [](absl::string_view tenant, const std::string& id, const v1::Lead& lead,
         readstore::ReadStore::Rows& rows) {
        if (lead.owner_id().empty()) return;
        const std::string owned = Key(tenant, "owned", absl::StrCat(lead.owner_id(), kSep, id));
        rows.emplace_back(owned, "");
        rows.emplace_back(Key(tenant, "owned-of", id), owned);
      });
}

absl::StatusOr<LeadPage> ListLeads(readstore::ReadStore* store, const std::string& tenant,
                                   const LeadFilter& filter, int page_size,
                                   const std::string& after) {
  LeadPage page;
  // An owner's leads in creation order walk the owner index; the priority
  // order walks its own index and filters.
  const bool by_owner = !filter.by_priority && !filter.owner.empty();
  const std::string prefix = filter.by_priority ? Key(tenant, "prio", "")
                             : by_owner ? Key(tenant, "owned", absl::StrCat(filter.owner, kSep))
                                        : Key(tenant, "lead", "");
  absl::Status error;
  std::string last;
  bool more = false;
  RETURN_IF_ERROR(store->Scan(
      prefix, after.empty() ? "" : prefix + after,
      [&](absl::string_view key, absl::string_view value) {
        std::string row_value(value);
        if (filter.by_priority || by_owner) {
          const std::string id(key.substr(key.rfind('\0') + 1));
          auto found = store->Get(Key(tenant, "lead", id));
          if (!found.ok() || !*found) {
            error = found.ok() ? absl::DataLossError("index row without its lead") : found.status();
            return false;
          }
          row_value = **found;
        }
        v1::Lead lead;
        if (!lead.ParseFromString(row_value)) {
          error = absl::DataLossError("corrupt lead row");
          return false;
        }
        if (filter.state != v1::LEAD_STATE_UNSPECIFIED && lead.state() != filter.state) return true;
        if (!filter.owner.empty() && lead.owner_id() != filter.owner) return true;
        if (static_cast<int>(page.leads.size()) == page_size) {
          more = true;
          return false;
        }
        page.leads.push_back(std::move(lead));
        last = std::string(key.substr(prefix.size()));
        return true;
      }));
  RETURN_IF_ERROR(error);
  if (more) page.last_key = last;
  return page;
}

absl::StatusOr<std::vector<ev::LeadMatch>> FindLeadMatches(readstore::ReadStore* store,
                                                           const std::string& tenant,
                                                           const std::vector<std::string>& keys,
                                                           int limit) {
  std::map<std::string, ev::LeadMatch> by_id;
  for (const auto& k : keys) {
    const std::string prefix = Key(tenant, "lmatch", k + kSep);
    const std::string kind = k.substr(0, k.find(':'));
    RETURN_IF_ERROR(store->Scan(prefix, "", [&](absl::string_view key, absl::string_view) {
      ev::LeadMatch& m = by_id[std::string(key.substr(prefix.size()))];
      m.set_lead_id(std::string(key.substr(prefix.size())));
      m.add_keys(kind);
      return static_cast<int>(by_id.size()) < limit;
    }));
  }
  std::vector<ev::LeadMatch> out;
  for (auto& [id, m] : by_id) out.push_back(std::move(m));
  return out;
}

absl::StatusOr<std::vector<v1::Channel>> ListChannels(readstore::ReadStore* store,
                                                      const std::string& tenant) {
  std::vector<v1::Channel> out;
  absl::Status error;
  RETURN_IF_ERROR(
      store->Scan(Key(tenant, "channel", ""), "", [&](absl::string_view, absl::string_view value) {
        if (!out.emplace_back().ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          error = absl::DataLossError("corrupt channel row");
          return false;
        }
        return true;
      }));
  RETURN_IF_ERROR(error);
  return out;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> DueLeads(
    readstore::ReadStore* store, absl::Time now, int limit) {
  std::vector<std::pair<std::string, std::string>> out;
  const int64_t micros = absl::ToUnixMicros(now);
  RETURN_IF_ERROR(store->Scan(kDuePrefix, "", [&](absl::string_view key, absl::string_view) {
    absl::string_view rest = key.substr(kDuePrefix.size());
    if (readstore::DecodeBigEndian64(rest.substr(0, 8)) > micros) return false;
    rest.remove_prefix(9);
    const size_t sep = rest.find('\0');
    out.emplace_back(std::string(rest.substr(0, sep)), std::string(rest.substr(sep + 1)));
    return static_cast<int>(out.size()) < limit;
  }));
  return out;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> QueuedLeads(
    readstore::ReadStore* store, const std::string& after, int limit) {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string start = after.empty() ? "" : kQueuedPrefix + after;
  RETURN_IF_ERROR(store->Scan(kQueuedPrefix, start, [&](absl::string_view key, absl::string_view) {
    absl::string_view rest = key.substr(kQueuedPrefix.size());
    const size_t sep = rest.find('\0');
    out.emplace_back(std::string(rest.substr(0, sep)), std::string(rest.substr(sep + 1)));
    return static_cast<int>(out.size()) < limit;
  }));
  return out;
}

}  // namespace crm::lead
