// SPDX-License-Identifier: Apache-2.0
//
// Walking and editing the options of a TCP header whose checksum is kept
// right incrementally (RFC 1624). Malformed option lists end the walk: the
// segment is forwarded with its options as they were.
#pragma once

#include <cstdint>
#include <cstring>

#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "net/checksum.hpp"

namespace fulcrum {

constexpr uint8_t kTcpOptEnd = 0;
constexpr uint8_t kTcpOptNop = 1;
constexpr uint8_t kTcpOptMss = 2;
constexpr uint8_t kTcpOptSack = 5;

// The TCP header's length, options included (its data offset).
inline uint16_t tcp_header_len(const rte_tcp_hdr* tcp) { return uint16_t((tcp->data_off >> 4) * 4); }

// The TCP header bytes of m (its L4 header at l4_off) that lie in its
// first segment: options are walked there only, so a header split across
// segments keeps the rest of its options as they are. The fixed header is
// in the first segment (the parser checks it).
inline uint16_t tcp_hdr_contiguous(const rte_mbuf* m, uint16_t l4_off) {
  auto* tcp = rte_pktmbuf_mtod_offset(m, const rte_tcp_hdr*, l4_off);
  uint16_t hlen = tcp_header_len(tcp);
  uint16_t room = uint16_t(rte_pktmbuf_data_len(m) - l4_off);
  return hlen < room ? hlen : room;
}

// Calls f(kind, uint8_t* value, uint8_t value_len) for each option of tcp
// (hdr_len bytes of header).
template <class F>
void tcp_for_each_option(rte_tcp_hdr* tcp, uint16_t hdr_len, F&& f) {
  uint8_t* p = reinterpret_cast<uint8_t*>(tcp) + sizeof(rte_tcp_hdr);
  uint8_t* end = reinterpret_cast<uint8_t*>(tcp) + hdr_len;
  while (p < end) {
    uint8_t kind = p[0];
    if (kind == kTcpOptEnd) return;
    if (kind == kTcpOptNop) {
      p++;
      continue;
    }
    if (end - p < 2 || p[1] < 2 || p[1] > end - p) return;
    f(kind, p + 2, uint8_t(p[1] - 2));
    p += p[1];
  }
}

// Adds delta to the 32-bit big-endian value at p (2-byte aligned at best),
// keeping the TCP checksum right.
inline void tcp_add32(rte_tcp_hdr* tcp, uint8_t* p, int32_t delta) {
  uint32_t old_be;
  std::memcpy(&old_be, p, sizeof(old_be));
  uint32_t new_be = rte_cpu_to_be_32(rte_be_to_cpu_32(old_be) + uint32_t(delta));
  std::memcpy(p, &new_be, sizeof(new_be));
  tcp->cksum = cksum_adjust32(tcp->cksum, old_be, new_be);
}

// Sets the 16-bit big-endian value at p, keeping the TCP checksum right.
inline void tcp_set16(rte_tcp_hdr* tcp, uint8_t* p, uint16_t value) {
  uint16_t old_be, new_be = rte_cpu_to_be_16(value);
  std::memcpy(&old_be, p, sizeof(old_be));
  std::memcpy(p, &new_be, sizeof(new_be));
  tcp->cksum = cksum_adjust16(tcp->cksum, old_be, new_be);
}

}  // namespace fulcrum
