// SPDX-License-Identifier: Apache-2.0
//
// wlc: weighted least connections, the default. The usable dest with the
// smallest overhead / weight wins: dest i beats the best so far m when
// overhead(m) * w(i) > overhead(i) * w(m), compared exactly without
// division. First in list order wins ties. The selection itself lives in
// common.hpp (pick_wlc) because lblc and lblcr fall back to it.
#include "sched/common.hpp"
#include "sched/factories.hpp"

namespace fulcrum::sched {
namespace {

class WeightedLeastConnection final : public Scheduler {
 public:
  bool needs_load() const override { return true; }
  int32_t pick(const SchedInput& in, SchedState*) const override { return pick_wlc(in); }
};

}  // namespace

std::unique_ptr<Scheduler> make_wlc(const std::vector<SchedDest>&, const SchedOptions&,
                                    std::string&) {
  return std::make_unique<WeightedLeastConnection>();
}

}  // namespace fulcrum::sched
