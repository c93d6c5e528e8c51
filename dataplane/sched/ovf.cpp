// SPDX-License-Identifier: Apache-2.0
//
// ovf: overflow. Dests are ranked by weight, highest first (list order
// among equals, a stable sort done at build time); a new connection goes
// to the first usable dest in that ranking whose active connections are
// below its weight. The weight is thus a connection cap: the first dest
// fills up to it, then the next one takes the overflow. When every dest is
// at its cap there is no dest (-1). The counts are summed over workers a
// few packets late, so a cap can be overshot by about one connection per
// worker.
#include <algorithm>
#include <numeric>

#include "sched/common.hpp"
#include "sched/factories.hpp"

namespace fulcrum::sched {
namespace {

class Overflow final : public Scheduler {
 public:
  explicit Overflow(std::vector<uint32_t> order) : order_(std::move(order)) {}

  bool needs_load() const override { return true; }

  int32_t pick(const SchedInput& in, SchedState*) const override {
    for (uint32_t i : order_) {
      if (usable_at(in, i) && in.load[i].active < in.dests[i].weight) return int32_t(i);
    }
    return -1;
  }

 private:
  std::vector<uint32_t> order_;  // dest indices, highest build-time weight first
};

}  // namespace

std::unique_ptr<Scheduler> make_ovf(const std::vector<SchedDest>& dests, const SchedOptions&,
                                    std::string&) {
  std::vector<uint32_t> order(dests.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return dests[a].weight > dests[b].weight; });
  return std::make_unique<Overflow>(std::move(order));
}

}  // namespace fulcrum::sched
