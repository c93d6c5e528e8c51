// SPDX-License-Identifier: Apache-2.0
//
// Forwarding by mode. The mode is bound to the connection when it is
// created (Conn::fwd) and this one switch dispatches it; each mode lives
// in its own file. Every function consumes the packet: sent, held for
// ARP, or dropped and counted.
#pragma once

#include <rte_mbuf.h>

#include "engine/worker_ctx.hpp"
#include "ipvs/conn.hpp"
#include "net/packet.hpp"

namespace fulcrum {

// A client -> VIP packet of c, sent towards its dest. Owner worker. c is
// not const: FULLNAT records what it told the dest about the client.
void xmit_in(WorkerCtx& ctx, Conn& c, rte_mbuf* m, const PacketMeta& meta);

// A dest -> client reply of c (NAT, FULLNAT), sent back to the client.
void xmit_out(WorkerCtx& ctx, const Conn& c, rte_mbuf* m, const PacketMeta& meta);

// The modes, one file each.
void nat_xmit_in(WorkerCtx& ctx, const Conn& c, rte_mbuf* m, const PacketMeta& meta);
void nat_xmit_out(WorkerCtx& ctx, const Conn& c, rte_mbuf* m, const PacketMeta& meta);
void dr_xmit_in(WorkerCtx& ctx, const Conn& c, rte_mbuf* m);
void tun_xmit_in(WorkerCtx& ctx, const Conn& c, rte_mbuf* m, const PacketMeta& meta);
void fullnat_xmit_in(WorkerCtx& ctx, Conn& c, rte_mbuf* m, const PacketMeta& meta);
void fullnat_xmit_out(WorkerCtx& ctx, const Conn& c, rte_mbuf* m, const PacketMeta& meta);
void snat_xmit_in(WorkerCtx& ctx, const Conn& c, rte_mbuf* m, const PacketMeta& meta);
void snat_xmit_out(WorkerCtx& ctx, const Conn& c, rte_mbuf* m, const PacketMeta& meta);

}  // namespace fulcrum
