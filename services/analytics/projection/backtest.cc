#include "services/analytics/projection/backtest.h"

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "crm/customer/events/v1/customer_events.pb.h"
#include "libs/clock/timestamp.h"
#include "libs/status/status.h"
#include "services/analytics/projection/rows.h"
#include "services/customer/domain/customer.h"
#include "services/customer/domain/policy.h"

namespace crm::analytics {
namespace {

namespace cev = crm::customer::events::v1;

constexpr size_t kMaxReleases = 1000;

// The tenant's policy as it stood at `t`: the last one set by then, else
// the shipped defaults.
absl::StatusOr<customer::Policy> PolicyAt(readstore::ReadStore* store, const std::string& tenant,
                                          absl::Time t) {
  customer::Policy policy;
  const std::string prefix = RowKey(tenant, "policy");
  absl::Status error;
  RETURN_IF_ERROR(store->Scan(prefix, "", [&](absl::string_view key, absl::string_view value) {
    if (WhenTime(key.substr(prefix.size())) > t) return false;
    cev::PolicySettings settings;
    if (!settings.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      error = absl::DataLossError("corrupt policy row");
      return false;
    }
    policy = customer::FromSettings(settings);
    return true;
  }));
  RETURN_IF_ERROR(error);
  return policy;
}

bool ByDropProtection(const cev::CustomerReleased& r) {
  return r.reason() == cev::RELEASE_REASON_NO_VALID_FOLLOW_UP ||
         r.reason() == cev::RELEASE_REASON_NO_SIGNED_CONTRACT;
}

class Replay {
 public:
  Replay(absl::Time from, absl::Time to, const customer::Policy& proposed,
         v1::PoolRulesBacktest* out)
      : from_(from), to_(to), proposed_(proposed), out_(out) {}

  // One customer's drop facts, oldest first.
  void Customer(const std::string& id,
                const std::vector<std::pair<absl::Time, cev::CustomerEvent>>& facts) {
    customer::Customer c;
    c.id = id;
    releases_.clear();
    bool fired = false;          // the proposal released it in this holding
    Release* release = nullptr;  // ... within the window
    for (const auto& [at, e] : facts) {
      if (at > to_) break;
      if (!fired && Due(c, at, &release)) fired = true;
      if (e.has_released() && ByDropProtection(e.released()) && at >= from_) {
        ++Rep(e.released().previous_owner_id()).released_live;
        if (release != nullptr) {
          release->live_release_time = ToTimestamp(at);
        } else if (!fired) {
          ++Rep(e.released().previous_owner_id()).kept_under_proposed;
        }
      }
      const std::string owner = c.owner;
      const absl::Time claimed = c.claim_time;
      c = customer::Evolve(std::move(c), e);
      if (c.owner != owner || c.claim_time != claimed) {  // a new holding
        fired = false;
        release = nullptr;
      }
    }
    if (!fired) Due(c, to_, &release);
    // This customer's proposed releases are complete: count those the live
    // rules did not make, and keep the earliest kMaxReleases of all.
    for (Release& r : releases_) {
      if (!r.live_release_time) ++Rep(r.rep).released_only_proposed;
      ++release_count_;
      if (earliest_.size() == kMaxReleases) {
        if (!Earlier(r, earliest_.front())) continue;
        std::pop_heap(earliest_.begin(), earliest_.end(), Earlier);
        earliest_.pop_back();
      }
      earliest_.push_back(std::move(r));
      std::push_heap(earliest_.begin(), earliest_.end(), Earlier);
    }
  }

  // Acquisitions and departures of one rep's private pool, oldest first
  // ("1" entered).
  void Pool(const std::string& rep,
            const std::vector<std::tuple<absl::Time, std::string, bool>>& moves) {
    std::set<std::string> live, proposed;
    auto& row = Rep(rep);
    auto peak = [&]() {
      row.peak_pool_live = std::max<int64_t>(row.peak_pool_live, static_cast<int64_t>(live.size()));
      row.peak_pool_proposed =
          std::max<int64_t>(row.peak_pool_proposed, static_cast<int64_t>(proposed.size()));
    };
    bool started = false;
    for (const auto& [at, customer, in] : moves) {
      if (at > to_) break;
      if (at >= from_ && !started) {
        started = true;
        peak();  // as the window opened
      }
      if (!in) {
        live.erase(customer);
        proposed.erase(customer);
        continue;
      }
      live.insert(customer);
      if (at < from_) {
        proposed.insert(customer);
        continue;
      }
      ++row.acquired;
      if (static_cast<int32_t>(proposed.size()) >= proposed_.default_capacity) {
        ++row.refused_proposed;
      } else {
        proposed.insert(customer);
      }
      peak();
    }
    if (!started) peak();
  }

  void Finish() {
    std::sort_heap(earliest_.begin(), earliest_.end(), Earlier);
    v1::BacktestRepRow total;
    for (auto& [rep, r] : reps_) {
      v1::BacktestRepRow* row = out_->add_reps();
      row->set_rep_id(rep);
      row->set_released_live(r.released_live);
      row->set_released_proposed(r.released_proposed);
      row->set_released_only_proposed(r.released_only_proposed);
      row->set_kept_under_proposed(r.kept_under_proposed);
      row->set_acquired(r.acquired);
      row->set_refused_proposed(r.refused_proposed);
      row->set_peak_pool_live(r.peak_pool_live);
      row->set_peak_pool_proposed(r.peak_pool_proposed);
    }
    out_->set_releases_truncated(release_count_ > static_cast<int64_t>(earliest_.size()));
    for (const auto& r : earliest_) {
      v1::BacktestRelease* release = out_->add_releases();
      release->set_customer_id(r.customer);
      release->set_rep_id(r.rep);
      *release->mutable_release_time() = ToTimestamp(r.time);
      release->set_reason(r.reason);
      if (r.live_release_time) *release->mutable_live_release_time() = *r.live_release_time;
    }
    for (const auto& row : out_->reps()) {
      total.set_released_live(total.released_live() + row.released_live());
      total.set_released_proposed(total.released_proposed() + row.released_proposed());
      total.set_released_only_proposed(total.released_only_proposed() +
                                       row.released_only_proposed());
      total.set_kept_under_proposed(total.kept_under_proposed() + row.kept_under_proposed());
      total.set_acquired(total.acquired() + row.acquired());
      total.set_refused_proposed(total.refused_proposed() + row.refused_proposed());
    }
    *out_->mutable_total() = total;
  }

 private:
  struct RepFigures {
    int64_t released_live = 0, released_proposed = 0, released_only_proposed = 0,
            kept_under_proposed = 0;
    int64_t acquired = 0, refused_proposed = 0, peak_pool_live = 0, peak_pool_proposed = 0;
  };
  struct Release {
    std::string customer, rep;
    absl::Time time;
    cev::ReleaseReason reason;
    std::optional<google::protobuf::Timestamp> live_release_time;
  };

  static bool Earlier(const Release& a, const Release& b) {
    return std::tie(a.time, a.customer, a.rep) < std::tie(b.time, b.customer, b.rep);
  }

  RepFigures& Rep(const std::string& rep) { return reps_[rep]; }

  // Whether the proposal's drop deadline for `c` passed before `at`
  // (strictly, as the live enforcement has it); records the release when
  // it falls in the window.
  bool Due(const customer::Customer& c, absl::Time at, Release** release) {
    const auto deadline = customer::NextDropDeadline(c, proposed_);
    if (!deadline || deadline->at >= at) return false;
    if (deadline->at >= from_) {
      ++Rep(c.owner).released_proposed;
      releases_.push_back({c.id, c.owner, deadline->at, deadline->reason, std::nullopt});
      *release = &releases_.back();
    }
    return true;
  }

  absl::Time from_, to_;
  customer::Policy proposed_;
  v1::PoolRulesBacktest* out_;
  std::map<std::string, RepFigures> reps_;
  std::deque<Release> releases_;  // the current customer's; stable addresses
  // The earliest kMaxReleases proposed releases so far (a max-heap by
  // Earlier), of release_count_.
  std::vector<Release> earliest_;
  int64_t release_count_ = 0;
};

}  // namespace

absl::StatusOr<v1::PoolRulesBacktest> BacktestPoolRules(readstore::ReadStore* store,
                                                        const std::string& tenant,
                                                        const v1::BacktestPoolRulesRequest& request,
                                                        absl::Time now) {
  const absl::Time to = request.has_to() ? std::min(FromTimestamp(request.to()), now) : now;
  const absl::Time from =
      request.has_from() ? FromTimestamp(request.from()) : to - absl::Hours(24 * 90);
  if (from >= to) {
    FieldViolations v;
    v.Add("to", "must be after from, and from before now");
    return v.ToStatus();
  }
  ASSIGN_OR_RETURN(customer::Policy proposed, PolicyAt(store, tenant, from));
  if (!request.update_mask().paths().empty()) {
    customer::UpdatePolicy update;
    update.settings = request.policy();
    update.paths.assign(request.update_mask().paths().begin(), request.update_mask().paths().end());
    update.now = from;
    ASSIGN_OR_RETURN(cev::TenantPolicySet set, customer::Decide(proposed, update));
    proposed = customer::FromSettings(set.settings());
  }
  v1::PoolRulesBacktest out;
  *out.mutable_from() = ToTimestamp(from);
  *out.mutable_to() = ToTimestamp(to);
  *out.mutable_policy() = customer::ToSettings(proposed);
  Replay replay(from, to, proposed, &out);

  // Drop protection, customer by customer.
  const std::string facts = RowKey(tenant, "drop-fact");
  std::string customer_id;
  std::vector<std::pair<absl::Time, cev::CustomerEvent>> history;
  absl::Status error;
  RETURN_IF_ERROR(store->Scan(facts, "", [&](absl::string_view key, absl::string_view value) {
    const absl::string_view rest = key.substr(facts.size());
    const absl::string_view id = rest.substr(0, rest.size() - 17);
    if (id != customer_id) {
      if (!history.empty()) replay.Customer(customer_id, history);
      customer_id = std::string(id);
      history.clear();
    }
    cev::CustomerEvent e;
    if (!e.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      error = absl::DataLossError("corrupt drop-fact row");
      return false;
    }
    history.emplace_back(WhenTime(rest.substr(rest.size() - 16)), std::move(e));
    return true;
  }));
  RETURN_IF_ERROR(error);
  if (!history.empty()) replay.Customer(customer_id, history);

  // Capacity, rep by rep: `held` rows are `<rep>\0<customer>\0<when>`,
  // sorted by rep, so one rep's moves are held at a time.
  std::string rep;
  std::vector<std::tuple<absl::Time, std::string, bool>> moves;
  auto replay_rep = [&] {
    std::stable_sort(moves.begin(), moves.end(),
                     [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
    replay.Pool(rep, moves);
    moves.clear();
  };
  const std::string held = RowKey(tenant, "held");
  RETURN_IF_ERROR(store->Scan(held, "", [&](absl::string_view key, absl::string_view value) {
    const absl::string_view rest = key.substr(held.size());
    const absl::string_view rep_customer = rest.substr(0, rest.size() - 17);
    const size_t sep = rep_customer.find('\0');
    if (rep_customer.substr(0, sep) != rep) {
      if (!moves.empty()) replay_rep();
      rep = std::string(rep_customer.substr(0, sep));
    }
    moves.emplace_back(WhenTime(rest.substr(rest.size() - 16)),
                       std::string(rep_customer.substr(sep + 1)), value == "1");
    return true;
  }));
  if (!moves.empty()) replay_rep();
  replay.Finish();
  return out;
}

}  // namespace crm::analytics
