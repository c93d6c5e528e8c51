// SPDX-License-Identifier: Apache-2.0
//
// Header parsing and validation.
//
// Every received frame passes through parse_packet() before anything looks
// at it, so the rest of the pipeline may assume the headers it reads are
// complete and consistent: Ethernet, then either a well-formed ARP body or
// an IPv4 header with a valid version, IHL, total length and checksum and
// an L4 header that fits. Anything else is rejected with the counter that
// names the reason. Trailing Ethernet padding is trimmed so that the mbuf
// length equals the IP total length afterwards.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "engine/counters.hpp"

namespace fulcrum {

enum class PacketKind : uint8_t { kArp, kIpv4, kDrop };

struct PacketMeta {
  PacketKind kind;
  uint8_t l4_proto;   // IPPROTO_TCP/UDP/ICMP for kIpv4
  uint16_t l3_off;    // offset of the ARP or IPv4 header
  uint16_t l4_off;    // offset of the L4 header (kIpv4)
  uint16_t l4_len;    // bytes from l4_off to the end of the IP packet
  Counter drop;       // the reason, when kind == kDrop
};

// Parses and validates the frame in m. Returns meta.kind; for kDrop,
// meta.drop names the counter to bump. Any thread; touches only m.
PacketKind parse_packet(rte_mbuf* m, PacketMeta& meta);

// True when the IPv4 header's checksum verifies. The header must be whole.
bool ipv4_checksum_ok(const void* ip_hdr, uint16_t hdr_len);

// Recomputes the IPv4 header checksum in place.
void ipv4_set_checksum(void* ip_hdr);

}  // namespace fulcrum
