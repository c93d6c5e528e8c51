// SPDX-License-Identifier: Apache-2.0
//
// IPv4 prefixes: the one place a prefix length becomes a netmask.
#pragma once

#include <cstdint>

#include <rte_byteorder.h>

namespace fulcrum {

// The netmask of a prefix of `len` bits (0 to 32), in network order.
inline uint32_t prefix_mask(uint8_t len) {
  return rte_cpu_to_be_32(len == 0 ? 0 : ~uint32_t(0) << (32 - len));
}

// Whether a and b (network order) share their first `len` bits.
inline bool same_prefix(uint32_t a, uint32_t b, uint8_t len) { return ((a ^ b) & prefix_mask(len)) == 0; }

}  // namespace fulcrum
