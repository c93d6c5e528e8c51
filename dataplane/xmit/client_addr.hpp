// SPDX-License-Identifier: Apache-2.0
//
// Telling a FULLNAT dest who the client is. The dest sees <laddr, lport>
// as the peer; the service chooses how the real <caddr, cport> reaches it:
//
//  - TOA: TCP option 254, length 8, carrying cport and caddr, added to the
//    client's handshake ACK and to its first data segment (servers with the
//    toa module read it at accept or at the first read). When the header
//    has no room for 8 more bytes, or the packet would outgrow the MTU, the
//    segment goes without it and toa_no_room counts it.
//  - PROXY protocol v2: a 28-byte header (signature, PROXY command,
//    TCP over IPv4, caddr, vaddr, cport, vport) before the first data byte.
//    From then on the dest has seen 28 more bytes than the client sent:
//    the client's later sequence numbers grow by 28, and the acknowledgement
//    numbers and SACK blocks the dest sends back shrink by 28. A
//    retransmission of the first data segment gets the header again.
//
// Both grow the client's packets, so the MSS the dest announces in its
// SYN-ACK is lowered by as much: the client's full-sized segments still fit
// once grown.
#pragma once

#include <rte_mbuf.h>

#include "engine/worker_ctx.hpp"
#include "ipvs/conn.hpp"
#include "net/packet.hpp"

namespace fulcrum {

constexpr uint16_t kToaLen = 8;
constexpr uint16_t kProxyV2Len = 28;

// A client -> dest TCP segment of FULLNAT connection c, already rewritten.
// False when m was consumed (dropped and counted).
bool client_addr_in(WorkerCtx& ctx, Conn& c, rte_mbuf* m, PacketMeta& meta);

// A dest -> client TCP segment of c, already rewritten.
void client_addr_out(const Conn& c, rte_mbuf* m, const PacketMeta& meta);

}  // namespace fulcrum
