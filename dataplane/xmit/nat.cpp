// SPDX-License-Identifier: Apache-2.0
//
// NAT (masquerading): the destination is rewritten to the dest on the way
// in and the source back to the VIP on the way out, so replies must route
// back through the balancer (the dests' gateway). TTL is left alone, as
// LVS does: the balancer is the endpoint the client addressed.
#include "xmit/rewrite.hpp"
#include "xmit/xmit.hpp"
#include "net/output.hpp"

namespace fulcrum {

void nat_xmit_in(WorkerCtx& ctx, const Conn& c, rte_mbuf* m, const PacketMeta& meta) {
  rewrite_dst(m, meta, c.daddr, c.dport);
  ip_output(ctx, m);
}

void nat_xmit_out(WorkerCtx& ctx, const Conn& c, rte_mbuf* m, const PacketMeta& meta) {
  rewrite_src(m, meta, c.vaddr, c.vport);
  ip_output(ctx, m);
}

}  // namespace fulcrum
