// SPDX-License-Identifier: Apache-2.0
#include "net/icmp.hpp"

#include <rte_icmp.h>
#include <netinet/in.h>

#include <cstring>

#include <rte_branch_prediction.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include "net/checksum.hpp"
#include "net/packet.hpp"

namespace fulcrum {
namespace {

constexpr uint8_t kReplyTtl = 64;
constexpr uint8_t kIcmpDestUnreach = 3;
constexpr uint8_t kIcmpFragNeeded = 4;

}  // namespace

bool icmp_is_echo_request(const rte_mbuf* m, uint16_t l4_off) {
  auto* icmp = rte_pktmbuf_mtod_offset(m, const rte_icmp_hdr*, l4_off);
  return icmp->icmp_type == RTE_IP_ICMP_ECHO_REQUEST && icmp->icmp_code == 0;
}

bool icmp_checksum_ok(const rte_mbuf* m, uint16_t l4_off, uint16_t l4_len) {
  uint16_t sum = 0;
  return rte_raw_cksum_mbuf(m, l4_off, l4_len, &sum) == 0 && sum == 0xffff;
}

void icmp_make_echo_reply(rte_mbuf* m, uint16_t l3_off, uint16_t l4_off, uint16_t l4_len) {
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, l3_off);
  auto* icmp = rte_pktmbuf_mtod_offset(m, rte_icmp_hdr*, l4_off);
  // Swapping the addresses leaves both sums unchanged; only the TTL word
  // (IP) and the type word (ICMP) change. Updating incrementally, from
  // values held in registers, avoids re-reading the header just written.
  uint16_t old_ttl = rte_cpu_to_be_16(uint16_t(ip->time_to_live) << 8 | ip->next_proto_id);
  uint16_t new_ttl = rte_cpu_to_be_16(uint16_t(kReplyTtl) << 8 | ip->next_proto_id);
  uint32_t client = ip->src_addr;
  ip->src_addr = ip->dst_addr;
  ip->dst_addr = client;
  ip->time_to_live = kReplyTtl;
  ip->hdr_checksum = cksum_adjust16(ip->hdr_checksum, old_ttl, new_ttl);
  uint16_t old_type = rte_cpu_to_be_16(uint16_t(RTE_IP_ICMP_ECHO_REQUEST) << 8 | icmp->icmp_code);
  uint16_t new_type = rte_cpu_to_be_16(uint16_t(RTE_IP_ICMP_ECHO_REPLY) << 8 | icmp->icmp_code);
  icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
  icmp->icmp_cksum = cksum_adjust16(icmp->icmp_cksum, old_type, new_type);
  // The update yields 0x0000 where a full sum gives 0xffff in one case:
  // a message that is all zeros (id 0, seq 0, no payload). Only a full
  // sum can tell, and only a zero result needs one.
  if (unlikely(icmp->icmp_cksum == 0)) {
    uint16_t sum = 0;
    rte_raw_cksum_mbuf(m, l4_off, l4_len, &sum);
    icmp->icmp_cksum = uint16_t(~sum);
  }
}

rte_mbuf* icmp_build_frag_needed(rte_mempool* pool, const void* offending, uint16_t mtu,
                                 uint32_t src) {
  auto* orig = static_cast<const rte_ipv4_hdr*>(offending);
  // RFC 792: the original IP header and the first 64 bits of its data.
  uint16_t quoted = uint16_t((orig->version_ihl & 0x0f) * 4 + 8);
  uint16_t icmp_len = uint16_t(sizeof(rte_icmp_hdr) + quoted);
  uint16_t total = uint16_t(sizeof(rte_ipv4_hdr) + icmp_len);
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  char* data = rte_pktmbuf_append(m, uint16_t(sizeof(rte_ether_hdr) + total));
  if (data == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(data + sizeof(rte_ether_hdr));
  std::memset(ip, 0, total);
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->total_length = rte_cpu_to_be_16(total);
  ip->time_to_live = kReplyTtl;
  ip->next_proto_id = IPPROTO_ICMP;
  ip->src_addr = src;
  ip->dst_addr = orig->src_addr;
  ipv4_set_checksum(ip);
  auto* icmp = reinterpret_cast<rte_icmp_hdr*>(ip + 1);
  icmp->icmp_type = kIcmpDestUnreach;
  icmp->icmp_code = kIcmpFragNeeded;
  icmp->icmp_seq_nb = rte_cpu_to_be_16(mtu);  // "next-hop MTU" (RFC 1191) in the low half
  std::memcpy(icmp + 1, orig, quoted);
  icmp->icmp_cksum = uint16_t(~rte_raw_cksum(icmp, icmp_len));
  return m;
}

}  // namespace fulcrum
