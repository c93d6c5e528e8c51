// SPDX-License-Identifier: Apache-2.0
//
// DR (direct routing): the packet is sent unchanged to the dest's MAC; the
// dest owns the VIP on a non-ARPing interface and answers the client
// directly. The dest must be on a connected subnet (or reachable through
// a route's gateway, which then must deliver to it).
#include "xmit/xmit.hpp"
#include "net/output.hpp"

namespace fulcrum {

void dr_xmit_in(WorkerCtx& ctx, const Conn& c, rte_mbuf* m) { ip_output_to(ctx, m, c.daddr); }

}  // namespace fulcrum
