// SPDX-License-Identifier: Apache-2.0
//
// twos: weighted random with two choices. Two dests are drawn at random,
// each with probability proportional to its weight among the usable
// dests, and the one with fewer active connections per unit of weight
// takes the connection (the first draw on a tie). Looking at only two
// random candidates avoids the herd effect of least-connection schedulers
// when counts are stale (every worker's lc piles onto the same idle
// dest), while still steering away from overloaded dests.
//
// The randomness is SchedInput::random, stretched into two independent
// 64-bit draws by mix64 with two different seeds; no state.
#include "sched/common.hpp"
#include "sched/factories.hpp"

namespace fulcrum::sched {
namespace {

constexpr uint64_t kSeedFirst = 0x243f6a8885a308d3ull;   // any two distinct constants
constexpr uint64_t kSeedSecond = 0x13198a2e03707344ull;

class WeightedTwoChoices final : public Scheduler {
 public:
  bool needs_load() const override { return true; }

  int32_t pick(const SchedInput& in, SchedState*) const override {
    uint64_t total = 0;
    for (uint32_t i = 0; i < in.ndests; ++i) {
      if (usable(in.dests[i])) total += in.dests[i].weight;
    }
    if (total == 0) return -1;
    uint64_t r1 = below(mix64(in.random ^ kSeedFirst), total);
    uint64_t r2 = below(mix64(in.random ^ kSeedSecond), total);
    int32_t a = locate(in, r1), b = locate(in, r2);
    return lighter(in, uint32_t(b), uint32_t(a)) ? b : a;
  }

 private:
  // The usable dest whose weight interval covers r in [0, total).
  static int32_t locate(const SchedInput& in, uint64_t r) {
    int32_t last = -1;
    for (uint32_t i = 0; i < in.ndests; ++i) {
      if (!usable(in.dests[i])) continue;
      if (r < in.dests[i].weight) return int32_t(i);
      r -= in.dests[i].weight;
      last = int32_t(i);
    }
    return last;  // not reached: r < total
  }

  // x has strictly fewer active connections per weight than y.
  static bool lighter(const SchedInput& in, uint32_t x, uint32_t y) {
    return ratio_less(in.load[x].active, in.dests[x].weight, in.load[y].active, in.dests[y].weight);
  }
};

}  // namespace

std::unique_ptr<Scheduler> make_twos(const std::vector<SchedDest>&, const SchedOptions&,
                                     std::string&) {
  return std::make_unique<WeightedTwoChoices>();
}

}  // namespace fulcrum::sched
