// SPDX-License-Identifier: Apache-2.0
//
// Address and port rewriting for NAT, with incremental checksum updates
// (RFC 1624): the IP header checksum for the address, and the TCP or UDP
// checksum for the address (it is in the pseudo-header) and the port.
// A UDP checksum of 0 means "none" and stays 0.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "net/packet.hpp"

namespace fulcrum {

// Rewrites the destination address and port of the validated TCP/UDP
// packet m to addr:port (network order). Any thread.
void rewrite_dst(rte_mbuf* m, const PacketMeta& meta, uint32_t addr, uint16_t port);

// Rewrites the source address and port.
void rewrite_src(rte_mbuf* m, const PacketMeta& meta, uint32_t addr, uint16_t port);

// ICMP echo through SNAT: rewrites the source (src) or destination address
// and the echo identifier (network order), adjusting the IP and ICMP
// checksums (the ICMP one covers no addresses).
void rewrite_icmp_echo(rte_mbuf* m, const PacketMeta& meta, bool src, uint32_t addr, uint16_t ident);

// Rewrites both (FULLNAT), adjusting each checksum once.
void rewrite_both(rte_mbuf* m, const PacketMeta& meta, uint32_t saddr, uint16_t sport, uint32_t daddr,
                  uint16_t dport);

}  // namespace fulcrum
