// SPDX-License-Identifier: Apache-2.0
#include "net/arp.hpp"

#include <cstring>

#include <rte_arp.h>

namespace fulcrum {

bool arp_parse(const rte_mbuf* m, uint16_t l3_off, ArpView& out) {
  auto* arp = rte_pktmbuf_mtod_offset(m, const rte_arp_hdr*, l3_off);
  if (arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
      arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
      arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != sizeof(uint32_t))
    return false;
  out.op = rte_be_to_cpu_16(arp->arp_opcode);
  if (out.op != RTE_ARP_OP_REQUEST && out.op != RTE_ARP_OP_REPLY) return false;
  out.sha = arp->arp_data.arp_sha;
  out.sip = arp->arp_data.arp_sip;
  out.tip = arp->arp_data.arp_tip;
  return true;
}

void arp_make_reply(rte_mbuf* m, uint16_t l3_off, const rte_ether_addr& my_mac) {
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  auto* arp = rte_pktmbuf_mtod_offset(m, rte_arp_hdr*, l3_off);
  auto& d = arp->arp_data;
  uint32_t asked = d.arp_tip;
  d.arp_tha = d.arp_sha;
  d.arp_tip = d.arp_sip;
  d.arp_sha = my_mac;
  d.arp_sip = asked;
  arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
  eth->dst_addr = d.arp_tha;
  eth->src_addr = my_mac;
}

rte_mbuf* arp_build_request(rte_mempool* pool, const rte_ether_addr& my_mac, uint32_t sip,
                            uint32_t tip) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  constexpr uint16_t kLen = sizeof(rte_ether_hdr) + sizeof(rte_arp_hdr);
  char* data = rte_pktmbuf_append(m, kLen);
  if (data == nullptr) {  // cannot happen with our pools' buffer size
    rte_pktmbuf_free(m);
    return nullptr;
  }
  std::memset(data, 0, kLen);
  auto* eth = reinterpret_cast<rte_ether_hdr*>(data);
  memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
  eth->src_addr = my_mac;
  eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
  auto* arp = reinterpret_cast<rte_arp_hdr*>(eth + 1);
  arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
  arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
  arp->arp_hlen = RTE_ETHER_ADDR_LEN;
  arp->arp_plen = sizeof(uint32_t);
  arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
  arp->arp_data.arp_sha = my_mac;
  arp->arp_data.arp_sip = sip;
  arp->arp_data.arp_tip = tip;
  return m;
}

}  // namespace fulcrum
