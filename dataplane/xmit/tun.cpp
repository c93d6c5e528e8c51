// SPDX-License-Identifier: Apache-2.0
//
// TUN (IP-in-IP, RFC 2003): the client's packet, unchanged, inside an
// outer IPv4 header from the balancer to the dest; the dest decapsulates,
// owns the VIP and answers the client directly. The outer header costs 20
// bytes: a packet that no longer fits the output port's MTU is refused
// with ICMP "fragmentation needed" carrying the MTU that fits, so the
// client's path MTU discovery works through the balancer.
#include <netinet/in.h>

#include <cstring>

#include <rte_ip.h>

#include "net/icmp.hpp"
#include "net/output.hpp"
#include "xmit/xmit.hpp"

namespace fulcrum {
namespace {

constexpr uint16_t kOuterLen = sizeof(rte_ipv4_hdr);
constexpr uint8_t kOuterTtl = 64;

// Tells the client the largest packet that fits through the tunnel.
void refuse_too_big(WorkerCtx& ctx, rte_mbuf* m, const rte_ipv4_hdr* inner, uint16_t mtu) {
  rte_mbuf* err = icmp_build_frag_needed(ctx.pool, inner, uint16_t(mtu - kOuterLen), inner->dst_addr);
  ctx.drop(m, Counter::drop_tun_too_big);
  if (err == nullptr) return ctx.count(Counter::drop_no_mbuf);
  ctx.count(Counter::icmp_frag_needed_sent);
  ip_output(ctx, err);
}

void write_outer(rte_ipv4_hdr* outer, const rte_ipv4_hdr& inner, uint32_t src, uint32_t dst) {
  std::memset(outer, 0, kOuterLen);
  outer->version_ihl = RTE_IPV4_VHL_DEF;
  outer->type_of_service = inner.type_of_service;
  outer->total_length = rte_cpu_to_be_16(uint16_t(rte_be_to_cpu_16(inner.total_length) + kOuterLen));
  outer->packet_id = inner.packet_id;
  outer->fragment_offset = inner.fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
  outer->time_to_live = kOuterTtl;
  outer->next_proto_id = IPPROTO_IPIP;
  outer->src_addr = src;
  outer->dst_addr = dst;
  outer->hdr_checksum = rte_ipv4_cksum(outer);
}

}  // namespace

void tun_xmit_in(WorkerCtx& ctx, const Conn& c, rte_mbuf* m, const PacketMeta& meta) {
  const Nexthop* nh = ctx.snap->routes ? ctx.snap->routes->lookup(c.daddr) : nullptr;
  if (nh == nullptr) return ctx.drop(m, Counter::drop_no_route);
  auto* inner = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, meta.l3_off);
  uint16_t inner_len = rte_be_to_cpu_16(inner->total_length);
  uint16_t mtu = ctx.ports[nh->port].mtu;
  if (inner_len + kOuterLen > mtu) {
    if (inner->fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG)) return refuse_too_big(ctx, m, inner, mtu);
    return ctx.drop(m, Counter::drop_tun_too_big);  // no fragmentation yet
  }
  rte_ipv4_hdr inner_copy = *inner;
  // [eth][inner] -> [eth][outer][inner]: the new bytes go in front, the
  // outer header lands where the old Ethernet header was, and the output
  // stage writes a fresh Ethernet header in front of it.
  if (rte_pktmbuf_prepend(m, kOuterLen) == nullptr) return ctx.drop(m, Counter::drop_no_headroom);
  auto* outer = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, meta.l3_off);
  write_outer(outer, inner_copy, ctx.snap->source_for(nh->port, c.daddr), c.daddr);
  ip_output(ctx, m);
}

}  // namespace fulcrum
