// SPDX-License-Identifier: Apache-2.0
//
// sed: shortest expected delay. A new connection to dest i would find
// active(i) connections ahead of it and be served at a rate proportional
// to w(i), so its expected delay is (active + 1) / weight; the usable dest
// minimising it wins (exact cross multiplication, first wins ties).
// Unlike wlc, inactive connections are ignored, and the "+1" lets weights
// decide among idle dests (wlc sees 0 = 0 there and takes the first).
// The selection is pick_sed() in common.hpp, since nq ends in it too.
#include "sched/common.hpp"
#include "sched/factories.hpp"

namespace fulcrum::sched {
namespace {

class ShortestExpectedDelay final : public Scheduler {
 public:
  bool needs_load() const override { return true; }
  int32_t pick(const SchedInput& in, SchedState*) const override { return pick_sed(in); }
};

}  // namespace

std::unique_ptr<Scheduler> make_sed(const std::vector<SchedDest>&, const SchedOptions&,
                                    std::string&) {
  return std::make_unique<ShortestExpectedDelay>();
}

}  // namespace fulcrum::sched
