// SPDX-License-Identifier: Apache-2.0
//
// nq: never queue. A usable dest with no active connection takes the new
// connection at once (the first such in list order), whatever its weight,
// since nothing is queued ahead of it; when every usable dest is busy, nq
// is sed. Idle-ness is judged on the workers' summed counts, so two
// workers may both see a dest idle and both send it a connection.
#include "sched/common.hpp"
#include "sched/factories.hpp"

namespace fulcrum::sched {
namespace {

class NeverQueue final : public Scheduler {
 public:
  bool needs_load() const override { return true; }

  int32_t pick(const SchedInput& in, SchedState*) const override {
    for (uint32_t i = 0; i < in.ndests; ++i) {
      if (usable(in.dests[i]) && in.load[i].active == 0) return int32_t(i);
    }
    return pick_sed(in);
  }
};

}  // namespace

std::unique_ptr<Scheduler> make_nq(const std::vector<SchedDest>&, const SchedOptions&,
                                   std::string&) {
  return std::make_unique<NeverQueue>();
}

}  // namespace fulcrum::sched
