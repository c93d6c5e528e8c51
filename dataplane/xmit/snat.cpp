// SPDX-License-Identifier: Apache-2.0
//
// SNAT: the inside host's packet leaves from <laddr, lport> to the outside
// host unchanged otherwise; the outside host's reply to <laddr, lport> goes
// back to <caddr, cport>. ICMP echo swaps the identifier the same way.
#include <netinet/in.h>

#include "net/output.hpp"
#include "xmit/rewrite.hpp"
#include "xmit/xmit.hpp"

namespace fulcrum {

void snat_xmit_in(WorkerCtx& ctx, const Conn& c, rte_mbuf* m, const PacketMeta& meta) {
  if (c.proto == IPPROTO_ICMP) rewrite_icmp_echo(m, meta, true, c.laddr, c.lport);
  else rewrite_src(m, meta, c.laddr, c.lport);
  ip_output(ctx, m);
}

void snat_xmit_out(WorkerCtx& ctx, const Conn& c, rte_mbuf* m, const PacketMeta& meta) {
  if (c.proto == IPPROTO_ICMP) rewrite_icmp_echo(m, meta, false, c.caddr, c.cport);
  else rewrite_dst(m, meta, c.caddr, c.cport);
  ip_output(ctx, m);
}

}  // namespace fulcrum
