// SPDX-License-Identifier: Apache-2.0
//
// Growing a TCP segment in place: FULLNAT tells the dest the client's
// address by adding bytes to the client's packets, a TCP option (TOA) or a
// PROXY protocol header before the data. Both open a gap at an offset
// inside the packet, then fix the lengths and checksums. They run on one or
// two packets per connection, so the checksum is recomputed, not adjusted.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "engine/worker_ctx.hpp"
#include "net/packet.hpp"

namespace fulcrum {

// The TCP header length of m's segment.
uint16_t tcp_hdr_len(const rte_mbuf* m, const PacketMeta& meta);

// Whether the IP packet in m, grown by len bytes, still fits the MTU of the
// port that routes to daddr (network order).
bool tcp_grow_fits(const WorkerCtx& ctx, const rte_mbuf* m, const PacketMeta& meta, uint32_t daddr,
                   uint16_t len);

// Opens len bytes at offset `at` from the packet's L4 header (the bytes
// before it move towards the front, into the headroom) and copies bytes
// into the gap; then the IP total length, the IP checksum and the TCP
// checksum are made right. The headers keep their offsets. False (m
// unchanged) when m has no headroom or is not one segment.
bool tcp_grow(rte_mbuf* m, PacketMeta& meta, uint16_t at, const uint8_t* bytes, uint16_t len);

}  // namespace fulcrum
