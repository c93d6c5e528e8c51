// SPDX-License-Identifier: Apache-2.0
#include "xmit/tcp_grow.hpp"

#include <cstring>

#include <rte_ip.h>
#include <rte_tcp.h>

#include "xmit/tcp_opts.hpp"

namespace fulcrum {

uint16_t tcp_hdr_len(const rte_mbuf* m, const PacketMeta& meta) {
  auto* tcp = rte_pktmbuf_mtod_offset(m, const rte_tcp_hdr*, meta.l4_off);
  return tcp_header_len(tcp);
}

bool tcp_grow_fits(const WorkerCtx& ctx, const rte_mbuf* m, const PacketMeta& meta, uint32_t daddr,
                   uint16_t len) {
  const Nexthop* nh = ctx.snap->routes ? ctx.snap->routes->lookup(daddr) : nullptr;
  if (nh == nullptr) return true;  // ip_output drops and counts it anyway
  auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, meta.l3_off);
  return uint32_t(rte_be_to_cpu_16(ip->total_length)) + len <= ctx.ports[nh->port].mtu;
}

bool tcp_grow(rte_mbuf* m, PacketMeta& meta, uint16_t at, const uint8_t* bytes, uint16_t len) {
  if (m->nb_segs != 1) return false;
  uint16_t moved = uint16_t(meta.l4_off + at);
  if (moved > rte_pktmbuf_data_len(m)) return false;
  char* front = rte_pktmbuf_prepend(m, len);
  if (front == nullptr) return false;
  std::memmove(front, front + len, moved);
  std::memcpy(front + moved, bytes, len);
  meta.l4_len = uint16_t(meta.l4_len + len);
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, meta.l3_off);
  ip->total_length = rte_cpu_to_be_16(uint16_t(rte_be_to_cpu_16(ip->total_length) + len));
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  auto* tcp = rte_pktmbuf_mtod_offset(m, rte_tcp_hdr*, meta.l4_off);
  tcp->cksum = 0;
  tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
  return true;
}

}  // namespace fulcrum
