// SPDX-License-Identifier: Apache-2.0
//
// lblc: locality-based least connections. Connections for the same
// destination address keep going to the same dest, which keeps that
// dest's cache warm (LVS built it for cache clusters); a new address gets
// the wlc choice. The key is the packet's destination address, which for
// a Fulcrum service is its VIP (SchedInput::vaddr), so in practice all of
// a service's new connections stick to one dest until it is overloaded.
//
// The mapped dest is given up, and wlc chooses again, when it is
// unusable, or overloaded by the LVS locality test: more active
// connections than its weight while some other usable dest is below half
// of its own. Mappings live in a per-worker LocalityTable (locality.hpp)
// and are forgotten after lblc_expire_ms without use, so each worker keeps
// its own locality; with the same loads they make the same choice.
#include "sched/common.hpp"
#include "sched/factories.hpp"
#include "sched/locality.hpp"

namespace fulcrum::sched {
namespace {

struct LblcState : SchedState {
  LocalityTable<int32_t> table;  // key -> dest index
  explicit LblcState(uint64_t expire_ms) : table(expire_ms) {}
};

class LocalityLeastConnection final : public Scheduler {
 public:
  explicit LocalityLeastConnection(uint64_t expire_ms) : expire_ms_(expire_ms) {}

  bool needs_load() const override { return true; }

  std::unique_ptr<SchedState> make_state(uint32_t, uint32_t) const override {
    return std::make_unique<LblcState>(expire_ms_);
  }

  int32_t pick(const SchedInput& in, SchedState* state) const override {
    if (!state) return pick_wlc(in);  // no table: no locality to keep
    auto& table = static_cast<LblcState&>(*state).table;
    auto* e = table.find(in.vaddr, in.now_ms);
    if (e && still_good(in, uint32_t(e->value))) {
      e->last_used = in.now_ms;
      return e->value;
    }
    int32_t d = pick_wlc(in);
    if (d < 0) return -1;  // keep the old mapping: its dest may come back
    if (!e) e = &table.insert(in.vaddr, in.now_ms);
    e->value = d;
    e->last_used = in.now_ms;
    return d;
  }

 private:
  static bool still_good(const SchedInput& in, uint32_t d) {
    return usable_at(in, d) && !locality_overloaded(in, d, [](uint32_t) { return true; });
  }

  uint64_t expire_ms_;
};

}  // namespace

std::unique_ptr<Scheduler> make_lblc(const std::vector<SchedDest>&, const SchedOptions& opts,
                                     std::string&) {
  return std::make_unique<LocalityLeastConnection>(opts.lblc_expire_ms);
}

}  // namespace fulcrum::sched
