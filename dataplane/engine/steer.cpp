// SPDX-License-Identifier: Apache-2.0
#include "engine/steer.hpp"

#include <netinet/in.h>

#include <rte_icmp.h>
#include <rte_ip.h>

#include "ipvs/laddr.hpp"
#include "net/icmp.hpp"

namespace fulcrum {
namespace {

constexpr uint16_t kIcmpHeader = 8;

// The local port an ICMP error is about: the source port of the packet it
// quotes (one we sent from <laddr, lport>). 0 when it quotes none.
uint16_t quoted_lport(const rte_mbuf* m, const PacketMeta& meta) {
  if (meta.l4_len < kIcmpHeader + sizeof(rte_ipv4_hdr) + 4) return 0;
  auto* icmp = rte_pktmbuf_mtod_offset(m, const rte_icmp_hdr*, meta.l4_off);
  if (!icmp_is_error(icmp->icmp_type)) return 0;
  auto* inner = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, meta.l4_off + kIcmpHeader);
  uint16_t ihl = uint16_t((inner->version_ihl & 0x0f) * 4);
  if (ihl < sizeof(rte_ipv4_hdr) || kIcmpHeader + ihl + 4 > meta.l4_len) return 0;
  if (inner->next_proto_id != IPPROTO_TCP && inner->next_proto_id != IPPROTO_UDP) return 0;
  return *rte_pktmbuf_mtod_offset(m, const uint16_t*, meta.l4_off + kIcmpHeader + ihl);
}

// An SNAT echo reply comes back with the identifier the pool gave the
// request: it plays the local port. 0 when m is no echo reply.
uint16_t echo_reply_ident(const rte_mbuf* m, const PacketMeta& meta) {
  if (meta.l4_len < sizeof(rte_icmp_hdr)) return 0;
  auto* icmp = rte_pktmbuf_mtod_offset(m, const rte_icmp_hdr*, meta.l4_off);
  return icmp->icmp_type == RTE_IP_ICMP_ECHO_REPLY ? icmp->icmp_ident : 0;
}

}  // namespace

// The worker that owns a client's connections while clients are steered.
uint32_t client_owner(const WorkerCtx& ctx, uint32_t caddr) {
  uint32_t key = rte_be_to_cpu_32(caddr & ctx.snap->steer_mask);
  return uint32_t((uint64_t(key * 2654435761u) * ctx.workers) >> 32);
}

// A packet to a VIP (from a client) or from a NAT dest (to a client).
int32_t steer_client(const WorkerCtx& ctx, const rte_ipv4_hdr* ip, const OwnedAddress* dst) {
  if (dst != nullptr) return dst->vip && !dst->laddr ? int32_t(client_owner(ctx, ip->src_addr)) : -1;
  return ctx.snap->is_nat_dest(ip->src_addr) ? int32_t(client_owner(ctx, ip->dst_addr)) : -1;
}

int32_t steer_owner(const WorkerCtx& ctx, const rte_mbuf* m, const PacketMeta& meta) {
  if (meta.kind != PacketKind::kIpv4) return -1;
  auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, meta.l3_off);
  const OwnedAddress* a = ctx.snap->find_owned(ip->dst_addr);
  if (ctx.snap->steer_clients && (a == nullptr || !a->laddr)) return steer_client(ctx, ip, a);
  if (a == nullptr || !a->laddr) return -1;
  uint16_t lport_be = 0;
  if (meta.l4_proto == IPPROTO_TCP || meta.l4_proto == IPPROTO_UDP)
    lport_be = rte_pktmbuf_mtod_offset(m, const uint16_t*, meta.l4_off)[1];
  else if (meta.l4_proto == IPPROTO_ICMP)
    lport_be = echo_reply_ident(m, meta) ?: quoted_lport(m, meta);
  if (lport_be == 0) return -1;
  return int32_t(laddr_owner(rte_be_to_cpu_16(lport_be), ctx.workers));
}

uint16_t steer_burst(WorkerCtx& ctx, rte_mbuf** pkts, PacketMeta* meta, uint16_t n) {
  uint16_t kept = 0;
  for (uint16_t i = 0; i < n; i++) {
    int32_t owner = steer_owner(ctx, pkts[i], meta[i]);
    if (owner < 0 || owner == ctx.worker) {
      pkts[kept] = pkts[i];
      meta[kept++] = meta[i];
      continue;
    }
    if (rte_ring_sp_enqueue(ctx.redirect_to[owner], pkts[i]) != 0) ctx.drop(pkts[i], Counter::drop_redirect_full);
    else ctx.count(Counter::redirected_out);
  }
  return kept;
}

}  // namespace fulcrum
