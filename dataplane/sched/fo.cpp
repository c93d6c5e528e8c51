// SPDX-License-Identifier: Apache-2.0
//
// fo: weighted failover. Every new connection goes to the usable dest with
// the highest weight (the first in list order among equals); the others
// are standbys that take over, in order of weight, only while it is
// unusable. Weights are current ones, so changing a weight moves traffic
// at once. No state, no connection counts.
#include "sched/common.hpp"
#include "sched/factories.hpp"

namespace fulcrum::sched {
namespace {

class WeightedFailover final : public Scheduler {
 public:
  int32_t pick(const SchedInput& in, SchedState*) const override {
    int32_t best = -1;
    for (uint32_t i = 0; i < in.ndests; ++i) {
      if (!usable(in.dests[i])) continue;
      if (best < 0 || in.dests[i].weight > in.dests[best].weight) best = int32_t(i);
    }
    return best;
  }
};

}  // namespace

std::unique_ptr<Scheduler> make_fo(const std::vector<SchedDest>&, const SchedOptions&,
                                   std::string&) {
  return std::make_unique<WeightedFailover>();
}

}  // namespace fulcrum::sched
