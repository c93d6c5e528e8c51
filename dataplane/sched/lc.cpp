// SPDX-License-Identifier: Apache-2.0
//
// lc: least connections. The usable dest with the smallest overhead
// (active * 256 + inactive, see common.hpp) wins; weights only matter as
// "0 = never", and the first dest in list order wins ties. The counts are
// the sum over the workers (see scheduler.hpp), so lc balances globally
// up to the few packets by which other workers' counts lag.
#include "sched/common.hpp"
#include "sched/factories.hpp"

namespace fulcrum::sched {
namespace {

class LeastConnection final : public Scheduler {
 public:
  bool needs_load() const override { return true; }

  int32_t pick(const SchedInput& in, SchedState*) const override {
    Least least;
    for (uint32_t i = 0; i < in.ndests; ++i) {
      if (usable(in.dests[i])) least.offer(i, overhead(in.load[i]), 1);
    }
    return least.best;
  }
};

}  // namespace

std::unique_ptr<Scheduler> make_lc(const std::vector<SchedDest>&, const SchedOptions&,
                                   std::string&) {
  return std::make_unique<LeastConnection>();
}

}  // namespace fulcrum::sched
