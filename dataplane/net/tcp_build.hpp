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
  const uint8_t* options = nullptr;  // a multiple of 4 bytes, at most 40
  uint8_t options_len = 0;
};

// A new mbuf from pool holding s with valid checksums, and its meta; nullptr
// when the pool is empty.
rte_mbuf* tcp_build(rte_mempool* pool, const TcpSegment& s, PacketMeta& meta);

}  // namespace fulcrum
