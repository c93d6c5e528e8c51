// SPDX-License-Identifier: Apache-2.0
//
// sh: source hashing. The client address picks one of 256 buckets, each
// statically assigned to a dest in proportion to the weights
// (buckets.hpp), so a client keeps reaching the same dest, from every
// worker, with no state and no persistence table; the price is that
// changing the dest list remaps many clients (mh remaps few). If the
// client's dest is unusable or has more than twice its weight in active
// connections, there is no dest (-1): sh never falls back.
#include "sched/buckets.hpp"
#include "sched/factories.hpp"

namespace fulcrum::sched {

std::unique_ptr<Scheduler> make_sh(const std::vector<SchedDest>& dests, const SchedOptions&,
                                   std::string&) {
  return std::make_unique<HashScheduler>(dests, HashKey::kSource);
}

}  // namespace fulcrum::sched
