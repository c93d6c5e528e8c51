// SPDX-License-Identifier: Apache-2.0
//
// ARP (RFC 826) for Ethernet/IPv4: parsing, in-place replies, and building
// requests and gratuitous announcements. Policy (which addresses we own,
// what to learn) lives in the pipeline; this file only handles bytes.
#pragma once

#include <cstdint>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

namespace fulcrum {

struct ArpView {
  uint16_t op;              // RTE_ARP_OP_REQUEST or RTE_ARP_OP_REPLY
  rte_ether_addr sha;       // sender hardware address
  uint32_t sip;             // sender IPv4, network order
  uint32_t tip;             // target IPv4, network order
};

// Reads the ARP body at l3_off. Returns false when it is not Ethernet/IPv4
// ARP with a request or reply opcode (the caller counts it malformed).
bool arp_parse(const rte_mbuf* m, uint16_t l3_off, ArpView& out);

// Turns the request in m into our reply in place: we answer from my_mac
// for the address the request asked about.
void arp_make_reply(rte_mbuf* m, uint16_t l3_off, const rte_ether_addr& my_mac);

// Allocates a broadcast ARP request from pool asking who has tip, sent
// from (my_mac, sip). A gratuitous announcement is a request with
// sip == tip. Returns nullptr when the pool is empty.
rte_mbuf* arp_build_request(rte_mempool* pool, const rte_ether_addr& my_mac, uint32_t sip,
                            uint32_t tip);

}  // namespace fulcrum
