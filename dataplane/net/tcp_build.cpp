// SPDX-License-Identifier: Apache-2.0
#include "net/tcp_build.hpp"

#include <netinet/in.h>

#include <cstring>

#include <sanitizer/asan_interface.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "net/checksum.hpp"

namespace fulcrum {

rte_mbuf* tcp_build(rte_mempool* pool, const TcpSegment& s, PacketMeta& meta) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m != nullptr) tcp_write(m, s, meta);
  return m;
}

bool tcp_reusable(const rte_mbuf* m) {
  // A direct mbuf's buf_len is its pool's data room, and sits in the
  // mbuf's first line where the pool's private area is another line away.
  return m->nb_segs == 1 && RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1 &&
         m->buf_len >= RTE_PKTMBUF_HEADROOM + kTcpBuildMax;
}

// The IPv4 header and the TCP header, pseudo-header and options are summed
// from the values written, not read back (see CksumSum).
void tcp_write(rte_mbuf* m, const TcpSegment& s, PacketMeta& meta) {
  rte_pktmbuf_reset(m);
  uint16_t tcp_len = uint16_t(sizeof(rte_tcp_hdr) + s.options_len);
  uint16_t ip_len = uint16_t(sizeof(rte_ipv4_hdr) + tcp_len);
  uint16_t len = uint16_t(sizeof(rte_ether_hdr) + ip_len);
  auto* frame = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, len));
  // Appending hands out tailroom, like an allocator: under ASan, where the
  // tests poison a received frame's tailroom to catch reads past its end,
  // the bytes appended become addressable (a no-op in other builds).
  ASAN_UNPOISON_MEMORY_REGION(frame, len);
  std::memset(frame, 0, sizeof(rte_ether_hdr));
  reinterpret_cast<rte_ether_hdr*>(frame)->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);

  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(frame + sizeof(rte_ether_hdr));
  std::memset(ip, 0, sizeof(*ip));
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->total_length = rte_cpu_to_be_16(ip_len);
  ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
  ip->time_to_live = s.ttl;
  ip->next_proto_id = IPPROTO_TCP;
  ip->src_addr = s.saddr;
  ip->dst_addr = s.daddr;
  CksumSum addrs;
  addrs.add32(s.saddr), addrs.add32(s.daddr);
  CksumSum ip_sum = addrs;
  ip_sum.add16(rte_cpu_to_be_16(uint16_t(RTE_IPV4_VHL_DEF << 8)));  // version/ihl, tos 0
  ip_sum.add16(ip->total_length), ip_sum.add16(ip->fragment_offset);
  ip_sum.add16(rte_cpu_to_be_16(uint16_t(s.ttl << 8 | IPPROTO_TCP)));
  ip->hdr_checksum = ip_sum.cksum();

  auto* tcp = reinterpret_cast<rte_tcp_hdr*>(ip + 1);
  tcp->src_port = s.sport;
  tcp->dst_port = s.dport;
  tcp->sent_seq = rte_cpu_to_be_32(s.seq);
  tcp->recv_ack = rte_cpu_to_be_32(s.ack);
  tcp->data_off = uint8_t((tcp_len / 4) << 4);
  tcp->tcp_flags = s.flags;
  tcp->rx_win = rte_cpu_to_be_16(s.window);
  tcp->tcp_urp = 0;
  CksumSum tcp_sum = addrs;  // the pseudo-header: addresses, protocol, length
  tcp_sum.add16(rte_cpu_to_be_16(IPPROTO_TCP)), tcp_sum.add16(rte_cpu_to_be_16(tcp_len));
  tcp_sum.add16(s.sport), tcp_sum.add16(s.dport);
  tcp_sum.add32(tcp->sent_seq), tcp_sum.add32(tcp->recv_ack);
  tcp_sum.add16(rte_cpu_to_be_16(uint16_t(tcp->data_off << 8 | s.flags))), tcp_sum.add16(tcp->rx_win);
  auto* opts = reinterpret_cast<uint8_t*>(tcp + 1);
  for (uint8_t i = 0; i < s.options_len / 4; i++) {
    std::memcpy(opts + 4 * i, &s.options[i], 4);
    tcp_sum.add32(s.options[i]);
  }
  tcp->cksum = tcp_sum.cksum();
  meta = PacketMeta{PacketKind::kIpv4, IPPROTO_TCP, uint16_t(sizeof(rte_ether_hdr)),
                    uint16_t(sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr)), tcp_len, Counter::rx_packets};
}

}  // namespace fulcrum
