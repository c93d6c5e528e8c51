// SPDX-License-Identifier: Apache-2.0
#include "net/tcp_build.hpp"

#include <netinet/in.h>

#include <cstring>

#include <sanitizer/asan_interface.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>

namespace fulcrum {

rte_mbuf* tcp_build(rte_mempool* pool, const TcpSegment& s, PacketMeta& meta) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m != nullptr) tcp_write(m, s, meta);
  return m;
}

bool tcp_reusable(const rte_mbuf* m) {
  return m->nb_segs == 1 && RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1 &&
         rte_pktmbuf_data_room_size(m->pool) >= RTE_PKTMBUF_HEADROOM + kTcpBuildMax;
}

void tcp_write(rte_mbuf* m, const TcpSegment& s, PacketMeta& meta) {
  rte_pktmbuf_reset(m);
  uint16_t tcp_len = uint16_t(sizeof(rte_tcp_hdr) + s.options_len);
  uint16_t len = uint16_t(sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + tcp_len);
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
  ip->total_length = rte_cpu_to_be_16(uint16_t(sizeof(rte_ipv4_hdr) + tcp_len));
  ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
  ip->time_to_live = s.ttl;
  ip->next_proto_id = IPPROTO_TCP;
  ip->src_addr = s.saddr;
  ip->dst_addr = s.daddr;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  auto* tcp = reinterpret_cast<rte_tcp_hdr*>(ip + 1);
  tcp->src_port = s.sport;
  tcp->dst_port = s.dport;
  tcp->sent_seq = rte_cpu_to_be_32(s.seq);
  tcp->recv_ack = rte_cpu_to_be_32(s.ack);
  tcp->data_off = uint8_t((tcp_len / 4) << 4);
  tcp->tcp_flags = s.flags;
  tcp->rx_win = rte_cpu_to_be_16(s.window);
  tcp->cksum = 0;
  tcp->tcp_urp = 0;
  if (s.options_len != 0) std::memcpy(tcp + 1, s.options, s.options_len);
  tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
  meta = PacketMeta{PacketKind::kIpv4, IPPROTO_TCP, uint16_t(sizeof(rte_ether_hdr)),
                    uint16_t(sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr)), tcp_len, Counter::rx_packets};
}

}  // namespace fulcrum
