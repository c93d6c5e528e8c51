// SPDX-License-Identifier: Apache-2.0
#include "xmit/rewrite.hpp"

#include <netinet/in.h>

#include <cstddef>
#include <cstring>

#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "net/checksum.hpp"
#include "net/load.hpp"

namespace fulcrum {
namespace {

// Where the L4 checksum sits, or nullptr for a UDP datagram sent without one.
uint8_t* l4_cksum(rte_mbuf* m, const PacketMeta& meta) {
  uint8_t* l4 = rte_pktmbuf_mtod_offset(m, uint8_t*, meta.l4_off);
  if (meta.l4_proto == IPPROTO_TCP) return l4 + offsetof(rte_tcp_hdr, cksum);
  uint8_t* ck = l4 + offsetof(rte_udp_hdr, dgram_cksum);
  return (ck[0] | ck[1]) != 0 ? ck : nullptr;
}

// One address and port to rewrite: addr_off is where the address sits in
// the IP header (12 source, 16 destination), port_off where the port sits
// in the L4 header (0 source, 2 destination).
struct Field {
  size_t addr_off, port_off;
  uint32_t addr;
  uint16_t port;
};

// One implementation for every rewrite: NAT changes one side, FULLNAT
// both; each checksum takes the changes of all fields in one fold.
// Inlined into each caller, whose constant n unrolls the loop and keeps
// the fields in registers (a call, GCC's choice, cost FULLNAT ~10 %).
[[gnu::always_inline]] inline void rewrite(rte_mbuf* m, const PacketMeta& meta, const Field* fields, size_t n) {
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, meta.l3_off);
  uint8_t* l4 = rte_pktmbuf_mtod_offset(m, uint8_t*, meta.l4_off);
  CksumDelta addrs, ports;
  for (size_t i = 0; i < n; i++) {
    uint8_t* addr_field = reinterpret_cast<uint8_t*>(ip) + fields[i].addr_off;
    uint8_t* port_field = l4 + fields[i].port_off;
    addrs.add32(load32(addr_field), fields[i].addr);
    ports.add16(load16(port_field), fields[i].port);
    std::memcpy(addr_field, &fields[i].addr, sizeof(uint32_t));
    std::memcpy(port_field, &fields[i].port, sizeof(uint16_t));
  }
  ip->hdr_checksum = addrs.apply(ip->hdr_checksum);
  uint8_t* ck = l4_cksum(m, meta);
  if (ck == nullptr) return;
  // The L4 checksum covers the addresses too (its pseudo-header).
  ports.add(addrs);
  uint16_t l4_sum = ports.apply(load16(ck));
  // In UDP a computed 0 is sent as 0xffff: 0 would mean "no checksum".
  if (l4_sum == 0 && meta.l4_proto == IPPROTO_UDP) l4_sum = 0xffff;
  std::memcpy(ck, &l4_sum, sizeof(l4_sum));
}

constexpr size_t kSrcAddr = offsetof(rte_ipv4_hdr, src_addr);
constexpr size_t kDstAddr = offsetof(rte_ipv4_hdr, dst_addr);
constexpr size_t kSrcPort = 0;  // TCP and UDP both start with the ports
constexpr size_t kDstPort = 2;

}  // namespace

void rewrite_dst(rte_mbuf* m, const PacketMeta& meta, uint32_t addr, uint16_t port) {
  Field f{kDstAddr, kDstPort, addr, port};
  rewrite(m, meta, &f, 1);
}

void rewrite_src(rte_mbuf* m, const PacketMeta& meta, uint32_t addr, uint16_t port) {
  Field f{kSrcAddr, kSrcPort, addr, port};
  rewrite(m, meta, &f, 1);
}

void rewrite_icmp_echo(rte_mbuf* m, const PacketMeta& meta, bool src, uint32_t addr, uint16_t ident) {
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, meta.l3_off);
  auto* icmp = rte_pktmbuf_mtod_offset(m, rte_icmp_hdr*, meta.l4_off);
  uint8_t* field = reinterpret_cast<uint8_t*>(ip) + (src ? kSrcAddr : kDstAddr);
  ip->hdr_checksum = cksum_adjust32(ip->hdr_checksum, load32(field), addr);
  std::memcpy(field, &addr, sizeof(addr));
  icmp->icmp_cksum = cksum_adjust16(icmp->icmp_cksum, icmp->icmp_ident, ident);
  icmp->icmp_ident = ident;
}

void rewrite_both(rte_mbuf* m, const PacketMeta& meta, uint32_t saddr, uint16_t sport, uint32_t daddr,
                  uint16_t dport) {
  Field f[2] = {{kSrcAddr, kSrcPort, saddr, sport}, {kDstAddr, kDstPort, daddr, dport}};
  rewrite(m, meta, f, 2);
}

}  // namespace fulcrum
