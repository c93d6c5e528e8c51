// SPDX-License-Identifier: Apache-2.0
//
// rr: round robin. Each pick takes the next usable dest in list order
// after the one this worker chose last, wrapping around; weights only
// matter as "0 = never". Stateless apart from the per-worker cursor, so
// with W workers each one runs its own rotation, started at a different
// dest; over many connections the dests still get equal shares.
#include "sched/common.hpp"
#include "sched/factories.hpp"

namespace fulcrum::sched {
namespace {

class RoundRobin final : public Scheduler {
 public:
  explicit RoundRobin(uint32_t n) : n_(n) {}

  std::unique_ptr<SchedState> make_state(uint32_t worker, uint32_t workers) const override {
    return std::make_unique<CursorState>(staggered_last(worker, workers, n_));
  }

  int32_t pick(const SchedInput& in, SchedState* state) const override {
    CursorState fallback(in.ndests ? in.ndests - 1 : 0);  // no state: start at dest 0
    CursorState& cur = state ? static_cast<CursorState&>(*state) : fallback;
    for (uint32_t k = 1; k <= in.ndests; ++k) {
      uint32_t i = uint32_t((uint64_t(cur.last) + k) % in.ndests);
      if (!usable(in.dests[i])) continue;
      cur.last = i;
      return int32_t(i);
    }
    return -1;
  }

 private:
  uint32_t n_;  // dests at build time, for the staggered start
};

}  // namespace

std::unique_ptr<Scheduler> make_rr(const std::vector<SchedDest>& dests, const SchedOptions&,
                                   std::string&) {
  return std::make_unique<RoundRobin>(uint32_t(dests.size()));
}

}  // namespace fulcrum::sched
