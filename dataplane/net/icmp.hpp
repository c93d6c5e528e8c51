// SPDX-License-Identifier: Apache-2.0
//
// ICMP handling for owned addresses: echo replies. (Errors related to
// connections are translated by ipvs, not here.)
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

namespace fulcrum {

// True when the ICMP message at l4_off is an echo request (type 8, code 0).
bool icmp_is_echo_request(const rte_mbuf* m, uint16_t l4_off);

// True when the ICMP checksum over the l4_len bytes at l4_off verifies.
bool icmp_checksum_ok(const rte_mbuf* m, uint16_t l4_off, uint16_t l4_len);

// Turns the validated echo request in m into its reply in place: addresses
// swapped, type 0, fresh TTL, both checksums updated. The Ethernet header
// is left for the output stage. Any thread.
void icmp_make_echo_reply(rte_mbuf* m, uint16_t l3_off, uint16_t l4_off, uint16_t l4_len);

}  // namespace fulcrum
