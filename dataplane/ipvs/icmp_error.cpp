// SPDX-License-Identifier: Apache-2.0
//
// ICMP errors that belong to a connection (RFC 792: they quote the IP
// header and the first 8 bytes of the packet that caused them, enough for
// the ports). The quoted packet is looked up like a packet of the
// opposite direction:
//
//  - quoted dest-bound packet (caddr:cport -> daddr:dport, or for FULLNAT
//    laddr:lport -> daddr:dport), from the dest's side: matches the
//    connection's reply key. The client must see its own packet quoted, so
//    the quote becomes caddr:cport -> vaddr:vport and the error comes from
//    the VIP; it goes to the client.
//  - quoted client-bound reply (vaddr:vport -> caddr:cport), from the
//    client's side: matches the connection's client key. For NAT the quote
//    becomes daddr:dport -> caddr:cport and the error goes to the dest (for
//    FULLNAT daddr:dport -> laddr:lport, from laddr); DR and TUN forward it
//    to the dest as they forward the client's packets.
//
// This is what makes path MTU discovery (fragmentation needed) work
// through the balancer. The quoted L4 checksum is left alone: it may not
// even be quoted, and nobody verifies it.
#include <netinet/in.h>

#include <cstring>

#include <rte_icmp.h>
#include <rte_ip.h>

#include "ipvs/ipvs_internal.hpp"
#include "net/icmp.hpp"
#include "net/output.hpp"
#include "xmit/xmit.hpp"

namespace fulcrum {
namespace {

constexpr uint16_t kIcmpHeader = 8;
constexpr uint16_t kQuotedL4 = 8;

struct Quote {
  rte_ipv4_hdr* ip;  // the quoted IP header, inside m
  uint16_t* ports;   // its source and destination ports
};

bool find_quote(rte_mbuf* m, const PacketMeta& meta, Quote& q) {
  if (meta.l4_len < kIcmpHeader + sizeof(rte_ipv4_hdr) + kQuotedL4) return false;
  auto* icmp = rte_pktmbuf_mtod_offset(m, rte_icmp_hdr*, meta.l4_off);
  if (!icmp_is_error(icmp->icmp_type)) return false;
  uint16_t inner_off = meta.l4_off + kIcmpHeader;
  // The quote must be contiguous: the parser vouches only for the ICMP
  // header being in the first segment, not for what follows it.
  if (rte_pktmbuf_data_len(m) < inner_off + sizeof(rte_ipv4_hdr) + kQuotedL4) return false;
  q.ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, inner_off);
  uint16_t ihl = uint16_t((q.ip->version_ihl & 0x0f) * 4);
  if (ihl < sizeof(rte_ipv4_hdr) || kIcmpHeader + ihl + kQuotedL4 > meta.l4_len) return false;
  if (rte_pktmbuf_data_len(m) < inner_off + ihl + kQuotedL4) return false;
  if (q.ip->next_proto_id != IPPROTO_TCP && q.ip->next_proto_id != IPPROTO_UDP) return false;
  q.ports = rte_pktmbuf_mtod_offset(m, uint16_t*, inner_off + ihl);
  return true;
}

// What the error looks like after translation: the quoted packet's
// addresses and ports, and the error's own source and destination.
struct Translation {
  uint32_t q_saddr, q_daddr;
  uint16_t q_sport, q_dport;
  uint32_t saddr, daddr;
};

// Rewrites the quote and the outer header, then every checksum that covers
// them (all small: recomputed).
void rewrite(rte_mbuf* m, const PacketMeta& meta, const Quote& q, const Translation& t) {
  q.ip->src_addr = t.q_saddr;
  q.ip->dst_addr = t.q_daddr;
  q.ports[0] = t.q_sport;
  q.ports[1] = t.q_dport;
  ipv4_set_checksum(q.ip);
  auto* outer = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, meta.l3_off);
  outer->src_addr = t.saddr;
  outer->dst_addr = t.daddr;
  ipv4_set_checksum(outer);
  auto* icmp = rte_pktmbuf_mtod_offset(m, rte_icmp_hdr*, meta.l4_off);
  icmp->icmp_cksum = 0;
  uint16_t sum = 0;
  rte_raw_cksum_mbuf(m, meta.l4_off, meta.l4_len, &sum);
  icmp->icmp_cksum = uint16_t(~sum);
}

// From the dest's side, about a packet we sent it: the client must see its
// own packet (caddr:cport -> vaddr:vport) quoted, in an error from the VIP.
Translation to_client(const Conn& c) {
  return Translation{c.caddr, c.vaddr, c.cport, c.vport, c.vaddr, c.caddr};
}

// From the client's side, about a reply we sent it: the dest must see its
// own reply (daddr:dport -> caddr:cport, or laddr:lport for FULLNAT) quoted.
Translation to_dest(const Conn& c, uint32_t from) {
  bool fnat = conn_uses_laddr(c.fwd);
  uint32_t addr = fnat ? c.laddr : c.caddr;
  return Translation{c.daddr, addr, c.dport, fnat ? c.lport : c.cport, fnat ? c.laddr : from, c.daddr};
}

}  // namespace

bool ipvs_icmp_error(WorkerCtx& ctx, rte_mbuf* m, const PacketMeta& meta) {
  Quote q;
  if (!find_quote(m, meta, q)) return false;
  // Translation recomputes the checksum: check it first, or a corrupted
  // error (a wrong MTU, say) would leave here looking valid.
  if (!icmp_checksum_ok(m, meta.l4_off, meta.l4_len)) return ctx.drop(m, Counter::drop_l4_checksum), true;
  // The quoted packet went the other way: look it up reversed.
  ConnHit hit = ctx.ipvs->conns->lookup(q.ip->next_proto_id, q.ip->dst_addr, q.ports[1], q.ip->src_addr, q.ports[0]);
  if (hit.conn == nullptr) return false;
  Conn& c = *hit.conn;
  ctx.count(Counter::icmp_errors_translated);
  if (hit.reply) {  // only NAT and FULLNAT index replies
    rewrite(m, meta, q, to_client(c));
    return ip_output(ctx, m), true;
  }
  // DR and TUN forward it to the dest as they forward the client's packets.
  if (!conn_sees_replies(c.fwd)) return xmit_in(ctx, c, m, meta), true;
  auto* outer = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, meta.l3_off);
  rewrite(m, meta, q, to_dest(c, outer->src_addr));
  ip_output(ctx, m);
  return true;
}

}  // namespace fulcrum
