// SPDX-License-Identifier: Apache-2.0
//
// ICMP handling for owned addresses: echo replies. (Errors related to
// connections are translated by ipvs, not here.)
#pragma once

#include <cstdint>

#include <rte_mbuf.h>
#include <rte_mempool.h>

namespace fulcrum {

// True when the ICMP message at l4_off is an echo request (type 8, code 0).
bool icmp_is_echo_request(const rte_mbuf* m, uint16_t l4_off);

// ICMP types that report an error about a packet and quote it:
// unreachable, source quench, time exceeded, parameter problem.
inline bool icmp_is_error(uint8_t type) { return type == 3 || type == 4 || type == 11 || type == 12; }

// True when the ICMP checksum over the l4_len bytes at l4_off verifies.
bool icmp_checksum_ok(const rte_mbuf* m, uint16_t l4_off, uint16_t l4_len);

// Turns the validated echo request in m into its reply in place: addresses
// swapped, type 0, fresh TTL, both checksums updated. The Ethernet header
// is left for the output stage. Any thread.
void icmp_make_echo_reply(rte_mbuf* m, uint16_t l3_off, uint16_t l4_off, uint16_t l4_len);

// Builds, from pool, the ICMP "fragmentation needed" error (type 3 code 4)
// that tells the sender of `offending` (its IPv4 header, followed by at
// least 8 bytes) to send packets of at most mtu bytes; sent from src.
// The Ethernet header is left for the output stage. nullptr when the pool
// is empty. Any thread.
rte_mbuf* icmp_build_frag_needed(rte_mempool* pool, const void* offending, uint16_t mtu,
                                 uint32_t src);

}  // namespace fulcrum
