// SPDX-License-Identifier: Apache-2.0
//
// Building a TCP segment from nothing: the SYN proxy answers SYNs, opens
// connections to dests and resets clients with segments of its own. The
// Ethernet header is left for ip_output to write.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "net/packet.hpp"

namespace fulcrum {

struct TcpSegment {
  uint32_t saddr, daddr;  // network order
  uint16_t sport, dport;  // network order
  uint32_t seq, ack;      // host order
  uint8_t flags;
  uint16_t window;        // host order
  uint8_t ttl = 64;
  const uint32_t* options = nullptr;  // words as they sit in the packet (network order)
  uint8_t options_len = 0;           // in bytes: a multiple of 4, at most 40
};

// The longest frame written here: Ethernet, IPv4, TCP with 40 option bytes.
constexpr uint16_t kTcpBuildMax = 14 + 20 + 60;

// A new mbuf from pool holding s with valid checksums, and its meta; nullptr
// when the pool is empty.
rte_mbuf* tcp_build(rte_mempool* pool, const TcpSegment& s, PacketMeta& meta);

// Whether a received mbuf can be turned into a segment of its own by
// tcp_write: one segment, its own data, nobody else holding it. Answering
// in the received mbuf saves an allocation, a free and the first write to a
// cold buffer (a SYN flood's answers: docs/synproxy.md).
bool tcp_reusable(const rte_mbuf* m);
// Empties m and writes s into it as tcp_build does. m is tcp_reusable.
void tcp_write(rte_mbuf* m, const TcpSegment& s, PacketMeta& meta);

}  // namespace fulcrum
