// SPDX-License-Identifier: Apache-2.0
//
// The bottom of the packet path: route lookup, neighbour resolution and
// Ethernet framing for IPv4 packets we send; ARP input (answer, learn,
// release held packets); and the neighbour table's periodic work.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "engine/worker_ctx.hpp"
#include "net/packet.hpp"

namespace fulcrum {

// Sends the IPv4 packet in m (its IP header at the Ethernet offset, the
// Ethernet header space present) towards its destination: route, next-hop
// MAC (holding it while ARP resolves), Ethernet header, tx batch. Consumes
// m in every case. Owner worker.
void ip_output(WorkerCtx& ctx, rte_mbuf* m);

// The same, but towards `target` (network order) whatever the packet's
// destination: DR sends a packet addressed to the VIP to the dest's MAC.
void ip_output_to(WorkerCtx& ctx, rte_mbuf* m, uint32_t target);

// Handles a parsed ARP frame received on in_port. Consumes m.
void arp_input(WorkerCtx& ctx, uint16_t in_port, rte_mbuf* m, const PacketMeta& meta);

// Applies what another worker learned (see NeighPeers) to ctx's table.
void neigh_learn_shared(WorkerCtx& ctx, uint16_t port, uint32_t ip, const rte_ether_addr& mac,
                        bool create);

// ARP retries and expiry; call every few milliseconds. Owner worker.
void neigh_tick(WorkerCtx& ctx);

// Broadcasts a gratuitous ARP for every owned address the snapshot added
// after generation `since`. Returns the snapshot's generation.
uint64_t announce_addresses(WorkerCtx& ctx, uint64_t since);

}  // namespace fulcrum
