// SPDX-License-Identifier: Apache-2.0
//
// dh: destination hashing. The packet's destination address picks one of
// 256 buckets, each statically assigned to a dest in proportion to the
// weights (buckets.hpp), so a given destination always reaches the same
// dest, on every worker, with no state. For a Fulcrum service the
// destination is the VIP, so dh sends the whole service to one dest;
// it is there for LVS compatibility (cache clusters, fwmark services).
// If that dest is unusable or has more than twice its weight in active
// connections, there is no dest (-1): dh never falls back.
#include "sched/buckets.hpp"
#include "sched/factories.hpp"

namespace fulcrum::sched {

std::unique_ptr<Scheduler> make_dh(const std::vector<SchedDest>& dests, const SchedOptions&,
                                   std::string&) {
  return std::make_unique<HashScheduler>(dests, HashKey::kDestination);
}

}  // namespace fulcrum::sched
