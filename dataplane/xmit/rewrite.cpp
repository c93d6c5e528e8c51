// SPDX-License-Identifier: Apache-2.0
#include "xmit/rewrite.hpp"

#include <netinet/in.h>

#include <cstddef>
#include <cstring>

#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "net/checksum.hpp"

namespace fulcrum {
namespace {

// Where the L4 checksum sits, or nullptr for a UDP datagram sent without one.
uint8_t* l4_cksum(rte_mbuf* m, const PacketMeta& meta) {
  uint8_t* l4 = rte_pktmbuf_mtod_offset(m, uint8_t*, meta.l4_off);
  if (meta.l4_proto == IPPROTO_TCP) return l4 + offsetof(rte_tcp_hdr, cksum);
  uint8_t* ck = l4 + offsetof(rte_udp_hdr, dgram_cksum);
  return (ck[0] | ck[1]) != 0 ? ck : nullptr;
}

// Header fields at 2-byte alignment: access them through memcpy.
uint32_t load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
uint16_t load16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// One implementation for both directions: addr_off is where the address
// sits in the IP header (12 source, 16 destination), port_off where the
// port sits in the L4 header (0 source, 2 destination).
void rewrite(rte_mbuf* m, const PacketMeta& meta, size_t addr_off, size_t port_off,
             uint32_t addr, uint16_t port) {
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, meta.l3_off);
  uint8_t* addr_field = reinterpret_cast<uint8_t*>(ip) + addr_off;
  uint8_t* port_field = rte_pktmbuf_mtod_offset(m, uint8_t*, meta.l4_off) + port_off;
  uint32_t old_addr = load32(addr_field);
  uint16_t old_port = load16(port_field);
  ip->hdr_checksum = cksum_adjust32(ip->hdr_checksum, old_addr, addr);
  if (uint8_t* ck = l4_cksum(m, meta)) {
    uint16_t sum = cksum_adjust32(load16(ck), old_addr, addr);
    sum = cksum_adjust16(sum, old_port, port);
    // In UDP a computed 0 is sent as 0xffff: 0 would mean "no checksum".
    if (sum == 0 && meta.l4_proto == IPPROTO_UDP) sum = 0xffff;
    std::memcpy(ck, &sum, sizeof(sum));
  }
  std::memcpy(addr_field, &addr, sizeof(addr));
  std::memcpy(port_field, &port, sizeof(port));
}

constexpr size_t kSrcAddr = offsetof(rte_ipv4_hdr, src_addr);
constexpr size_t kDstAddr = offsetof(rte_ipv4_hdr, dst_addr);
constexpr size_t kSrcPort = 0;  // TCP and UDP both start with the ports
constexpr size_t kDstPort = 2;

}  // namespace

void rewrite_dst(rte_mbuf* m, const PacketMeta& meta, uint32_t addr, uint16_t port) {
  rewrite(m, meta, kDstAddr, kDstPort, addr, port);
}

void rewrite_src(rte_mbuf* m, const PacketMeta& meta, uint32_t addr, uint16_t port) {
  rewrite(m, meta, kSrcAddr, kSrcPort, addr, port);
}

}  // namespace fulcrum
