// SPDX-License-Identifier: Apache-2.0
//
// wrr: interleaved weighted round robin (the LVS algorithm). A current
// weight cw steps down from the largest weight by the weights' gcd; at each
// level the dests whose weight is >= cw are taken in list order. Weights
// 4,3,2 give the cycle A A B A B C A B C.
//
// The cycle is generated once at build time by running that algorithm
// (sum of weights / gcd entries), and pick() walks it with a per-worker
// cursor, skipping dests that are currently unusable. Skipping must stay
// cheap even when a heavy dest is down (weights 65535 and 1 with the heavy
// one inhibited would otherwise mean 65535 skipped entries per pick), so
// the start of every cw level is recorded too: after n+1 misses, pick()
// jumps straight to the first level that contains the heaviest usable
// dest. Everything it jumps over has a higher cw than that dest's weight,
// hence only dests heavier than every usable one: the result is exactly
// what the entry-by-entry walk would return.
#include <algorithm>
#include <numeric>

#include "sched/common.hpp"
#include "sched/factories.hpp"

namespace fulcrum::sched {
namespace {

// Cycles longer than this are refused: the table costs 4 bytes an entry.
constexpr uint64_t kMaxCycle = uint64_t(1) << 22;

struct Cycle {
  std::vector<uint32_t> seq;          // dest index of each position
  std::vector<uint32_t> level_start;  // first position of each cw level
};

// The LVS stepping rule, run for one full cycle: i advances circularly;
// each time it wraps to 0, cw drops by gcd and restarts at max below 1.
Cycle build_cycle(const std::vector<uint32_t>& w, uint32_t max_w, uint32_t gcd, uint64_t len) {
  Cycle c;
  c.seq.reserve(len);
  const uint32_t n = uint32_t(w.size());
  uint32_t i = n - 1;  // so the first step lands on 0 and sets cw = max
  int64_t cw = 0, level_cw = -1;
  while (c.seq.size() < len) {
    i = (i + 1) % n;
    if (i == 0) {
      cw -= gcd;
      if (cw <= 0) cw = max_w;
    }
    if (w[i] < cw) continue;
    if (cw != level_cw) c.level_start.push_back(uint32_t(c.seq.size()));
    level_cw = cw;
    c.seq.push_back(i);
  }
  return c;
}

class WeightedRoundRobin final : public Scheduler {
 public:
  WeightedRoundRobin(std::vector<uint32_t> w, uint32_t max_w, uint32_t gcd, Cycle c)
      : w_(std::move(w)), max_w_(max_w), gcd_(gcd), cycle_(std::move(c)) {}

  std::unique_ptr<SchedState> make_state(uint32_t worker, uint32_t workers) const override {
    return std::make_unique<CursorState>(staggered_last(worker, workers, len()));
  }

  int32_t pick(const SchedInput& in, SchedState* state) const override {
    if (len() == 0) return -1;
    CursorState fallback(len() - 1);  // no state: start at the cycle's start
    CursorState& cur = state ? static_cast<CursorState&>(*state) : fallback;
    // Common case: a usable dest within the next n+1 entries.
    uint32_t p = cur.last;
    if (walk(in, p, uint32_t(w_.size()) + 1)) return take(cur, p);
    // Many entries in a row unusable: jump to where a usable dest appears.
    uint32_t t = heaviest_usable(in);
    if (t == 0) return -1;
    uint32_t level = (max_w_ - t) / gcd_;  // first level whose cw <= t
    if (level_of(p) < level) p = cycle_.level_start[level] - 1;
    return walk(in, p, len()) ? take(cur, p) : -1;
  }

 private:
  uint32_t len() const { return uint32_t(cycle_.seq.size()); }

  // Advances p up to `steps` entries; true when it stops on a usable dest.
  bool walk(const SchedInput& in, uint32_t& p, uint32_t steps) const {
    for (uint32_t k = 0; k < steps; ++k) {
      p = p + 1 == len() ? 0 : p + 1;
      if (usable_at(in, cycle_.seq[p])) return true;
    }
    return false;
  }

  int32_t take(CursorState& cur, uint32_t p) const {
    cur.last = p;
    return int32_t(cycle_.seq[p]);
  }

  // The build-time weight of the heaviest usable dest (0: none usable).
  // Build-time, because that is what placed the dest in the cycle.
  uint32_t heaviest_usable(const SchedInput& in) const {
    uint32_t t = 0;
    for (uint32_t i = 0; i < w_.size(); ++i) {
      if (usable_at(in, i)) t = std::max(t, w_[i]);
    }
    return t;
  }

  uint32_t level_of(uint32_t p) const {
    const auto& ls = cycle_.level_start;
    return uint32_t(std::upper_bound(ls.begin(), ls.end(), p) - ls.begin()) - 1;
  }

  std::vector<uint32_t> w_;  // build-time weights
  uint32_t max_w_;
  uint32_t gcd_;
  Cycle cycle_;
};

}  // namespace

std::unique_ptr<Scheduler> make_wrr(const std::vector<SchedDest>& dests, const SchedOptions&,
                                    std::string& err) {
  std::vector<uint32_t> w;
  uint32_t max_w = 0, gcd = 0;
  uint64_t sum = 0;
  for (const SchedDest& d : dests) {
    w.push_back(d.weight);
    max_w = std::max(max_w, d.weight);
    gcd = std::gcd(gcd, d.weight);
    sum += d.weight;
  }
  if (max_w == 0) return std::make_unique<WeightedRoundRobin>(std::move(w), 0, 1, Cycle{});
  uint64_t len = sum / gcd;
  if (len > kMaxCycle) {
    err = "wrr: the weights make a cycle of " + std::to_string(len) +
          " picks (sum of weights / their gcd), more than " + std::to_string(kMaxCycle) +
          "; use smaller weights or weights with a common divisor";
    return nullptr;
  }
  Cycle c = build_cycle(w, max_w, gcd, len);
  return std::make_unique<WeightedRoundRobin>(std::move(w), max_w, gcd, std::move(c));
}

}  // namespace fulcrum::sched
