// SPDX-License-Identifier: Apache-2.0
//
// lblcr: locality-based least connections with replication. Like lblc,
// but a key maps to a set of dests, so a popular key can be served by
// several of them while the others keep their own locality:
//  - a new connection goes to the wlc choice within the set;
//  - if that dest is overloaded (more active connections than its weight
//    while a usable dest outside the set is below half of its own), or no
//    member is usable, the wlc choice among all dests joins the set and
//    takes the connection;
//  - when the set has not changed for longer than lblcr_shrink_ms and has
//    more than one member, its most loaded member leaves, so a set that
//    grew for a burst shrinks back;
//  - a key unused for lblc_expire_ms is forgotten, as in lblc.
// A set holds at most kMaxSet dests (a full set replaces its most loaded
// member); the table is lblc's per-worker LocalityTable.
#include "sched/common.hpp"
#include "sched/factories.hpp"
#include "sched/locality.hpp"

namespace fulcrum::sched {
namespace {

constexpr uint32_t kMaxSet = 8;

struct DestSet {
  uint64_t last_mod = 0;  // now_ms of the last change, for shrinking
  uint32_t n = 0;
  uint32_t d[kMaxSet] = {};

  bool has(uint32_t i) const {
    for (uint32_t k = 0; k < n; ++k) {
      if (d[k] == i) return true;
    }
    return false;
  }
  void remove_at(uint32_t k) { d[k] = d[--n]; }
};

struct LblcrState : SchedState {
  LocalityTable<DestSet> table;
  explicit LblcrState(uint64_t expire_ms) : table(expire_ms) {}
};

// The wlc choice among the usable members, or -1.
int32_t least_in(const SchedInput& in, const DestSet& s) {
  Least least;
  for (uint32_t k = 0; k < s.n; ++k) {
    uint32_t i = s.d[k];
    if (usable_at(in, i)) least.offer(i, overhead(in.load[i]), in.dests[i].weight);
  }
  return least.best;
}

// Position in the set of its most loaded member (highest overhead per
// weight); a member that cannot take connections counts as most loaded.
uint32_t most_loaded(const SchedInput& in, const DestSet& s) {
  uint32_t worst = 0;
  for (uint32_t k = 0; k < s.n; ++k) {
    uint32_t i = s.d[k], j = s.d[worst];
    if (!usable_at(in, i)) return k;
    if (ratio_less(overhead(in.load[j]), in.dests[j].weight, overhead(in.load[i]),
                   in.dests[i].weight)) {
      worst = k;
    }
  }
  return worst;
}

void add(const SchedInput& in, DestSet& s, uint32_t i) {
  if (s.has(i)) return;
  if (s.n == kMaxSet) s.remove_at(most_loaded(in, s));
  s.d[s.n++] = i;
  s.last_mod = in.now_ms;
}

class LocalityLeastConnectionReplicated final : public Scheduler {
 public:
  LocalityLeastConnectionReplicated(uint64_t expire_ms, uint64_t shrink_ms)
      : expire_ms_(expire_ms), shrink_ms_(shrink_ms) {}

  bool needs_load() const override { return true; }

  std::unique_ptr<SchedState> make_state(uint32_t, uint32_t) const override {
    return std::make_unique<LblcrState>(expire_ms_);
  }

  int32_t pick(const SchedInput& in, SchedState* state) const override {
    if (!state) return pick_wlc(in);  // no table: no locality to keep
    auto& table = static_cast<LblcrState&>(*state).table;
    auto* e = table.find(in.vaddr, in.now_ms);
    if (!e) return start_set(in, table);
    e->last_used = in.now_ms;
    DestSet& s = e->value;
    shrink_if_due(in, s);
    int32_t d = least_in(in, s);
    if (d >= 0 && !locality_overloaded(in, uint32_t(d), [&](uint32_t m) { return !s.has(m); })) {
      return d;
    }
    int32_t extra = pick_wlc(in);
    if (extra < 0) return d;  // nothing better anywhere
    add(in, s, uint32_t(extra));
    return extra;
  }

 private:
  static int32_t start_set(const SchedInput& in, LocalityTable<DestSet>& table) {
    int32_t d = pick_wlc(in);
    if (d < 0) return -1;
    DestSet& s = table.insert(in.vaddr, in.now_ms).value;
    add(in, s, uint32_t(d));
    return d;
  }

  void shrink_if_due(const SchedInput& in, DestSet& s) const {
    if (s.n <= 1 || in.now_ms < s.last_mod || in.now_ms - s.last_mod <= shrink_ms_) return;
    s.remove_at(most_loaded(in, s));
    s.last_mod = in.now_ms;
  }

  uint64_t expire_ms_;
  uint64_t shrink_ms_;
};

}  // namespace

std::unique_ptr<Scheduler> make_lblcr(const std::vector<SchedDest>&, const SchedOptions& opts,
                                      std::string&) {
  return std::make_unique<LocalityLeastConnectionReplicated>(opts.lblc_expire_ms,
                                                             opts.lblcr_shrink_ms);
}

}  // namespace fulcrum::sched
