// SPDX-License-Identifier: Apache-2.0
//
// Software flow steering: replies to a local address reach the worker that
// owns their connection, on any NIC.
//
// A FULLNAT or SNAT connection's reply is addressed to <laddr, lport>, and
// the NIC's RSS (or af_packet's fanout) may deliver it to any worker: its
// hash covers other addresses than the client's packets did. The local
// port says who owns the connection (laddr_owner(), laddr.hpp), so a
// worker that receives a reply it does not own hands it to the owner over
// a single-producer single-consumer ring, one per ordered pair of workers;
// the owner processes it at its next loop iteration. This works on every
// device (af_packet, af_xdp, virtio, any PCI NIC); NIC flow rules would
// spare the hop where the NIC has them (docs/fullnat.md).
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "engine/worker_ctx.hpp"
#include "net/packet.hpp"

namespace fulcrum {

// The worker that owns the connection of the parsed packet m, or -1 when
// any worker may handle it (not addressed to a local address, or not a
// TCP/UDP packet or ICMP error of one).
int32_t steer_owner(const WorkerCtx& ctx, const rte_mbuf* m, const PacketMeta& meta);

// Hands the packets of the burst that another worker owns to it (counted
// redirected_out; drop_redirect_full when its ring is full) and compacts
// pkts and meta to the packets that stay. Returns how many stay. Owner
// worker; ctx.redirect_to must be set.
uint16_t steer_burst(WorkerCtx& ctx, rte_mbuf** pkts, PacketMeta* meta, uint16_t n);

}  // namespace fulcrum
