// SPDX-License-Identifier: Apache-2.0
//
// FULLNAT: both addresses rewritten. The client's <caddr:cport ->
// vaddr:vport> leaves as <laddr:lport -> daddr:dport>, so the dest answers
// the balancer wherever it is routed; the reply <daddr:dport ->
// laddr:lport> goes back to the client as <vaddr:vport -> caddr:cport>.
// The client's address reaches the dest through client_addr.hpp.
#include <netinet/in.h>

#include "net/output.hpp"
#include "xmit/client_addr.hpp"
#include "xmit/rewrite.hpp"
#include "xmit/xmit.hpp"

namespace fulcrum {

void fullnat_xmit_in(WorkerCtx& ctx, Conn& c, rte_mbuf* m, const PacketMeta& meta) {
  rewrite_both(m, meta, c.laddr, c.lport, c.daddr, c.dport);
  PacketMeta grown = meta;  // adding client-address bytes changes l4_len
  if (c.proto == IPPROTO_TCP && !client_addr_in(ctx, c, m, grown)) return;
  ip_output(ctx, m);
}

void fullnat_xmit_out(WorkerCtx& ctx, const Conn& c, rte_mbuf* m, const PacketMeta& meta) {
  rewrite_both(m, meta, c.vaddr, c.vport, c.caddr, c.cport);
  if (c.proto == IPPROTO_TCP) client_addr_out(c, m, meta);
  ip_output(ctx, m);
}

}  // namespace fulcrum
