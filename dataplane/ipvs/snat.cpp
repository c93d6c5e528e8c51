// SPDX-License-Identifier: Apache-2.0
//
// SNAT: flows from a network behind the balancer to the outside leave from
// a local address, and the replies come back to it (DPVS's SNAT, the
// outbound counterpart of FULLNAT). A flow no service claims is matched
// against the rules in order; the first that covers its source and
// destination (and its output port, when the rule names one) makes the
// connection: <caddr:cport -> vaddr:vport> leaves as <laddr:lport ->
// vaddr:vport>. As for services, only a plain SYN opens a TCP flow.
//
// ICMP echo goes through too, the echo identifier taking the place of the
// ports: a request from inside gets an identifier from the pool, so that
// pings from several hosts never collide on one local address, and the
// reply gets the host's own identifier back.
#include <netinet/in.h>

#include <rte_icmp.h>
#include <rte_ip.h>

#include "ipvs/ipvs_internal.hpp"
#include "net/icmp.hpp"

namespace fulcrum {
namespace {

constexpr uint8_t kEchoReply = 0;
constexpr uint8_t kEchoRequest = 8;

// The rule for a flow from saddr to daddr, or nullptr.
const SnatRule* find_rule(const WorkerCtx& ctx, uint32_t saddr, uint32_t daddr) {
  for (const SnatRule& r : ctx.snap->snat) {
    if (!r.matches(saddr, daddr)) continue;
    if (r.out_port != kAnyPort) {
      const Nexthop* nh = ctx.snap->routes ? ctx.snap->routes->lookup(daddr) : nullptr;
      if (nh == nullptr || nh->port != r.out_port) continue;
    }
    return &r;
  }
  return nullptr;
}

ConnPlan plan_of(const SnatRule& r, const Tuple& t) {
  return ConnPlan{r.id, r.dest_id, t.daddr, t.dport, FwdMode::kSnat, &r.laddrs, ClientAddr::kNone};
}

}  // namespace

bool snat_in(WorkerCtx& ctx, rte_mbuf* m, const PacketMeta& meta, const Tuple& t, uint8_t flags) {
  // Our own addresses are never outside hosts.
  if (ctx.snap->find_owned(t.daddr) != nullptr) return false;
  const SnatRule* r = find_rule(ctx, t.saddr, t.daddr);
  if (r == nullptr) return false;
  if (meta.l4_proto == IPPROTO_TCP && !tcp_is_syn_only(flags)) return ctx.drop(m, Counter::drop_no_conn), true;
  Conn* c = conn_create(ctx, plan_of(*r, t), meta.l4_proto, t);
  if (c == nullptr) return rte_pktmbuf_free(m), true;
  conn_packet(ctx, ConnHit{c, false}, m, meta, flags);
  return true;
}

bool snat_icmp_echo(WorkerCtx& ctx, rte_mbuf* m, const PacketMeta& meta) {
  if (ctx.snap->snat.empty() || meta.l4_len < sizeof(rte_icmp_hdr)) return false;
  auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, meta.l3_off);
  auto* icmp = rte_pktmbuf_mtod_offset(m, const rte_icmp_hdr*, meta.l4_off);
  if (icmp->icmp_type != kEchoRequest && icmp->icmp_type != kEchoReply) return false;
  bool request = icmp->icmp_type == kEchoRequest;
  // The identifier is the requester's "port": source side of a request,
  // destination side of a reply.
  Tuple t{ip->src_addr, ip->dst_addr, request ? icmp->icmp_ident : uint16_t(0),
          request ? uint16_t(0) : icmp->icmp_ident};
  ConnHit hit = ctx.ipvs->conns->lookup(IPPROTO_ICMP, t.saddr, t.sport, t.daddr, t.dport);
  // A request travels client -> outside (the in key), a reply comes back
  // to the local address (the out key); the other way round is not ours.
  if (hit.conn != nullptr && hit.reply == request) return false;
  if (hit.conn != nullptr) return conn_packet(ctx, hit, m, meta, 0), true;
  if (!request || ctx.snap->find_owned(t.daddr) != nullptr) return false;
  const SnatRule* r = find_rule(ctx, t.saddr, t.daddr);
  if (r == nullptr) return false;
  if (!icmp_checksum_ok(m, meta.l4_off, meta.l4_len)) return ctx.drop(m, Counter::drop_l4_checksum), true;
  Conn* c = conn_create(ctx, plan_of(*r, t), IPPROTO_ICMP, t);
  if (c == nullptr) return rte_pktmbuf_free(m), true;
  conn_packet(ctx, ConnHit{c, false}, m, meta, 0);
  return true;
}

}  // namespace fulcrum
