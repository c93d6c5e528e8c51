// SPDX-License-Identifier: Apache-2.0
//
// Incremental Internet checksum updates (RFC 1624). Rewriting a field is
// cheaper and, for payloads that span segments, simpler than summing the
// whole packet again.
#pragma once

#include <cstdint>

namespace fulcrum {

// The checksum after one 16-bit word of the covered data changes from
// old_word to new_word. All three in network order. Any thread.
inline uint16_t cksum_adjust16(uint16_t cksum, uint16_t old_word, uint16_t new_word) {
  uint32_t sum = uint16_t(~cksum) + uint32_t(uint16_t(~old_word)) + new_word;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}

// The same for a 32-bit field (an IPv4 address), as two 16-bit words.
inline uint16_t cksum_adjust32(uint16_t cksum, uint32_t old_val, uint32_t new_val) {
  cksum = cksum_adjust16(cksum, uint16_t(old_val), uint16_t(new_val));
  return cksum_adjust16(cksum, uint16_t(old_val >> 16), uint16_t(new_val >> 16));
}

}  // namespace fulcrum
