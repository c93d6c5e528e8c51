// SPDX-License-Identifier: Apache-2.0
#include "net/packet.hpp"

#include <netinet/in.h>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "net/checksum.hpp"
#include "net/load.hpp"

namespace fulcrum {
namespace {

PacketKind reject(PacketMeta& meta, Counter why) {
  meta.kind = PacketKind::kDrop;
  meta.drop = why;
  return meta.kind;
}

// Minimum L4 header sizes; TCP and UDP get further checks below.
uint16_t l4_min_len(uint8_t proto) {
  switch (proto) {
    case IPPROTO_TCP: return sizeof(rte_tcp_hdr);
    case IPPROTO_UDP: return sizeof(rte_udp_hdr);
    case IPPROTO_ICMP: return sizeof(rte_icmp_hdr);
    default: return 0;
  }
}

// Checks the L4 header inside [l4, l4 + len). Returns the drop counter,
// or Counter::count when the header is acceptable.
Counter check_l4(uint8_t proto, const uint8_t* l4, uint16_t len) {
  uint16_t min = l4_min_len(proto);
  if (min == 0) return Counter::drop_l4_proto;
  if (len < min) return Counter::drop_l4_truncated;
  if (proto == IPPROTO_TCP) {
    auto* tcp = reinterpret_cast<const rte_tcp_hdr*>(l4);
    uint16_t doff = (tcp->data_off >> 4) * 4;
    if (doff < sizeof(rte_tcp_hdr) || doff > len) return Counter::drop_l4_truncated;
  } else if (proto == IPPROTO_UDP) {
    auto* udp = reinterpret_cast<const rte_udp_hdr*>(l4);
    if (rte_be_to_cpu_16(udp->dgram_len) != len) return Counter::drop_l4_truncated;
  }
  return Counter::count;
}

// Cuts chained m to its first len bytes. Ethernet padding is normally in
// the last segment, where rte_pktmbuf_trim() removes it; when it spans
// segments (a chained frame whose IP packet ends before the last one),
// trim refuses and the segments after the IP packet's end are freed.
[[gnu::cold, gnu::noinline]] void cut_chained(rte_mbuf* m, uint32_t len) {
  if (rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - len) == 0) return;
  rte_mbuf* seg = m;
  uint32_t left = len;  // of the len bytes, those in seg and after it
  uint16_t nb_segs = 1;
  while (left > seg->data_len) {
    left -= seg->data_len;
    seg = seg->next;
    nb_segs++;
  }
  seg->data_len = uint16_t(left);
  rte_pktmbuf_free(seg->next);
  seg->next = nullptr;
  m->nb_segs = nb_segs;
  m->pkt_len = len;
}

// Cuts m to its first len bytes (len <= its length). Every minimum-size
// frame (a bare TCP ACK) carries padding: a single segment, cut in place
// here rather than in a call that walks the chain first.
void cut_to(rte_mbuf* m, uint32_t len) {
  if (m->nb_segs != 1) return cut_chained(m, len);
  m->data_len = uint16_t(len);
  m->pkt_len = len;
}

bool ip_checksum_verified(const rte_mbuf* m, const rte_ipv4_hdr* ip, uint16_t ihl) {
  uint64_t flags = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
  if (flags == RTE_MBUF_F_RX_IP_CKSUM_GOOD) return true;
  if (flags == RTE_MBUF_F_RX_IP_CKSUM_BAD) return false;
  return ipv4_checksum_ok(ip, ihl);
}

PacketKind parse_ipv4(rte_mbuf* m, PacketMeta& meta) {
  uint16_t avail = rte_pktmbuf_data_len(m) - meta.l3_off;
  if (avail < sizeof(rte_ipv4_hdr)) return reject(meta, Counter::drop_runt);
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, meta.l3_off);
  if ((ip->version_ihl >> 4) != 4) return reject(meta, Counter::drop_ip_version);
  uint16_t ihl = (ip->version_ihl & 0x0f) * 4;
  if (ihl < sizeof(rte_ipv4_hdr) || ihl > avail) return reject(meta, Counter::drop_ip_ihl);
  uint16_t total = rte_be_to_cpu_16(ip->total_length);
  // Headers must sit in the first segment; the rest may be chained.
  if (total < ihl || total > rte_pktmbuf_pkt_len(m) - meta.l3_off)
    return reject(meta, Counter::drop_ip_length);
  if (!ip_checksum_verified(m, ip, ihl)) return reject(meta, Counter::drop_ip_checksum);
  // No reassembly yet: every fragment, first or not, is refused by name.
  if (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
    return reject(meta, Counter::drop_ip_fragment);
  // Ethernet pads short frames: trim so pkt_len is exactly the IP packet.
  if (rte_pktmbuf_pkt_len(m) != uint32_t(meta.l3_off) + total) cut_to(m, meta.l3_off + total);
  meta.l4_off = meta.l3_off + ihl;
  meta.l4_len = total - ihl;
  meta.l4_proto = ip->next_proto_id;
  if (meta.l4_off + l4_min_len(meta.l4_proto) > rte_pktmbuf_data_len(m))
    return reject(meta, Counter::drop_l4_truncated);
  Counter bad = check_l4(meta.l4_proto, rte_pktmbuf_mtod_offset(m, uint8_t*, meta.l4_off),
                         meta.l4_len);
  if (bad != Counter::count) return reject(meta, bad);
  meta.kind = PacketKind::kIpv4;
  return meta.kind;
}

}  // namespace

bool ipv4_checksum_ok(const void* ip_hdr, uint16_t hdr_len) {
  // The one's-complement sum over a header with a correct checksum is
  // 0xffff. Almost every header has no options: sum its five 32-bit words
  // directly rather than through the general-length loop.
  // Its words are loaded one by one: copied to an array first, they went
  // through the stack as one 16-byte store read back in 4-byte pieces,
  // which waited on store forwarding.
  if (hdr_len != sizeof(rte_ipv4_hdr)) return rte_raw_cksum(ip_hdr, hdr_len) == 0xffff;
  const auto* p = static_cast<const uint8_t*>(ip_hdr);
  CksumSum sum;
  for (int i = 0; i < 5; i++) sum.add32(load32(p + 4 * i));
  return sum.folded() == 0xffff;
}

void ipv4_set_checksum(void* ip_hdr) {
  auto* ip = static_cast<rte_ipv4_hdr*>(ip_hdr);
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
}

PacketKind parse_packet(rte_mbuf* m, PacketMeta& meta) {
  meta.l3_off = sizeof(rte_ether_hdr);
  meta.l4_off = meta.l4_len = 0;
  meta.l4_proto = 0;
  if (rte_pktmbuf_data_len(m) < sizeof(rte_ether_hdr)) return reject(meta, Counter::drop_runt);
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  switch (eth->ether_type) {
    case RTE_BE16(RTE_ETHER_TYPE_IPV4):
      return parse_ipv4(m, meta);
    case RTE_BE16(RTE_ETHER_TYPE_ARP):
      if (rte_pktmbuf_data_len(m) < meta.l3_off + sizeof(rte_arp_hdr))
        return reject(meta, Counter::drop_arp_malformed);
      meta.kind = PacketKind::kArp;
      return meta.kind;
    default:
      return reject(meta, Counter::drop_ethertype);
  }
}

}  // namespace fulcrum
