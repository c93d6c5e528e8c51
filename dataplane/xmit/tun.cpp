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

#include "net/checksum.hpp"
#include "net/icmp.hpp"
#include "net/load.hpp"
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

// The two bytes a and b as a 16-bit word loaded from where they sit.
uint16_t bytes16(uint8_t a, uint8_t b) {
  const uint8_t pair[2] = {a, b};
  return load16(pair);
}

// The checksum is summed from the words as they are written, not read
// back: rte_ipv4_cksum loaded the header just stored in 1-, 2- and 4-byte
// pieces as 16-byte words, which waited for the stores to reach the cache
// (no store forwarding): a third of TUN's transmit (bench/RESULTS.md).
void write_outer(rte_ipv4_hdr* outer, const rte_ipv4_hdr& inner, uint32_t src, uint32_t dst) {
  const uint16_t vhl_tos = bytes16(RTE_IPV4_VHL_DEF, inner.type_of_service);
  const uint16_t length = rte_cpu_to_be_16(uint16_t(rte_be_to_cpu_16(inner.total_length) + kOuterLen));
  const uint16_t df = inner.fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
  const uint16_t ttl_proto = bytes16(kOuterTtl, IPPROTO_IPIP);
  CksumSum sum;
  sum.add16(vhl_tos), sum.add16(length), sum.add16(inner.packet_id), sum.add16(df);
  sum.add16(ttl_proto), sum.add32(src), sum.add32(dst);
  auto* p = reinterpret_cast<uint8_t*>(outer);
  std::memcpy(p, &vhl_tos, 2);
  outer->total_length = length;
  outer->packet_id = inner.packet_id;
  outer->fragment_offset = df;
  std::memcpy(p + 8, &ttl_proto, 2);
  outer->hdr_checksum = sum.cksum();
  outer->src_addr = src;
  outer->dst_addr = dst;
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
  // [eth][inner] -> [eth][outer][inner]: the new bytes go in front, the
  // outer header lands where the old Ethernet header was (the inner one
  // stays where it is), and the output stage writes a fresh Ethernet
  // header in front of it.
  if (rte_pktmbuf_prepend(m, kOuterLen) == nullptr) return ctx.drop(m, Counter::drop_no_headroom);
  auto* outer = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, meta.l3_off);
  write_outer(outer, *inner, ctx.snap->source_for(nh->port, c.daddr), c.daddr);
  ip_output(ctx, m);
}

}  // namespace fulcrum
