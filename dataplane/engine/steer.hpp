// SPDX-License-Identifier: Apache-2.0
//
// Software flow steering: packets reach the worker that owns their
// connection, on any NIC.
//
// Replies to a local address (FULLNAT, SNAT) are steered by port:
// A FULLNAT or SNAT connection's reply is addressed to <laddr, lport>, and
// the NIC's RSS (or af_packet's fanout) may deliver it to any worker: its
// hash covers other addresses than the client's packets did. The local
// port says who owns the connection (laddr_owner(), laddr.hpp), so a
// worker that receives a reply it does not own hands it to the owner over
// a single-producer single-consumer ring, one per ordered pair of workers;
// the owner processes it at its next loop iteration. This works on every
// device (af_packet, af_xdp, virtio, any PCI NIC); NIC flow rules would
// spare the hop where the NIC has them (docs/fullnat.md).
//
// Clients are steered while some service is persistent: persistence
// templates are per worker, so all of one client's connections must be
// scheduled by one worker, or each worker would pick its own dest for the
// client. Every packet to a VIP then belongs to the worker given by a hash
// of its source under the shortest persistence netmask
// (Snapshot::steer_mask), and so does every reply from a NAT dest, by its
// destination (the client). Without persistent services nothing but local
// addresses is steered: RSS and af_packet's fanout hash a flow's two
// directions alike, so NAT replies come back to the worker of their
// connection by themselves.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "engine/worker_ctx.hpp"
#include "net/packet.hpp"

namespace fulcrum {

// The worker that owns the connection of the parsed packet m, or -1 when
// any worker may handle it.
int32_t steer_owner(const WorkerCtx& ctx, const rte_mbuf* m, const PacketMeta& meta);

// Hands the packets of the burst that another worker owns to it (counted
// redirected_out; drop_redirect_full when its ring is full) and compacts
// pkts and meta to the packets that stay. Returns how many stay. Owner
// worker; ctx.redirect_to must be set.
uint16_t steer_burst(WorkerCtx& ctx, rte_mbuf** pkts, PacketMeta* meta, uint16_t n);

}  // namespace fulcrum
