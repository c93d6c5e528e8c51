// SPDX-License-Identifier: Apache-2.0
#include "net/icmp.hpp"

#include <rte_icmp.h>
#include <rte_ip.h>

#include "net/checksum.hpp"
#include "net/packet.hpp"

namespace fulcrum {
namespace {

constexpr uint8_t kReplyTtl = 64;

}  // namespace

bool icmp_is_echo_request(const rte_mbuf* m, uint16_t l4_off) {
  auto* icmp = rte_pktmbuf_mtod_offset(m, const rte_icmp_hdr*, l4_off);
  return icmp->icmp_type == RTE_IP_ICMP_ECHO_REQUEST && icmp->icmp_code == 0;
}

void icmp_make_echo_reply(rte_mbuf* m, uint16_t l3_off, uint16_t l4_off) {
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, l3_off);
  auto* icmp = rte_pktmbuf_mtod_offset(m, rte_icmp_hdr*, l4_off);
  uint32_t client = ip->src_addr;
  ip->src_addr = ip->dst_addr;
  ip->dst_addr = client;
  ip->time_to_live = kReplyTtl;
  ipv4_set_checksum(ip);
  // Only the type byte changes (8 -> 0); the payload may span segments, so
  // adjust rather than recompute.
  uint16_t old_word = rte_cpu_to_be_16(uint16_t(icmp->icmp_type) << 8 | icmp->icmp_code);
  icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
  uint16_t new_word = rte_cpu_to_be_16(uint16_t(icmp->icmp_type) << 8 | icmp->icmp_code);
  icmp->icmp_cksum = cksum_adjust16(icmp->icmp_cksum, old_word, new_word);
}

}  // namespace fulcrum
