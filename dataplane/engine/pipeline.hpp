// SPDX-License-Identifier: Apache-2.0
//
// process_burst(): everything a worker does with the packets of one rx
// burst, callable with no port behind it (golden tests, fuzzers, benches).
//
// It works in stages over the whole burst, as DPDK's l3fwd does: parse and
// validate every packet (prefetching the next ones), then dispatch each by
// kind. ARP is answered and learned from; IPv4 to an owned address is
// local input (ICMP echo now; ipvs takes TCP/UDP to VIPs later); anything
// else is dropped and counted, since Fulcrum is not a general router.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "engine/worker_ctx.hpp"

namespace fulcrum {

// Processes n (<= kBurst) packets received on in_port. Every mbuf is
// consumed: queued in ctx.tx, held by the neighbour table, or freed and
// counted. ctx.snap and ctx.now must be set. Owner worker.
// Packets that belong to another worker's connections are handed to it
// (steer.hpp) instead; pkts may be reordered.
void process_burst(WorkerCtx& ctx, uint16_t in_port, rte_mbuf** pkts, uint16_t n);

// Processes n packets another worker received and handed to this one
// because it owns their connections. Not counted as received again.
void process_redirected(WorkerCtx& ctx, rte_mbuf** pkts, uint16_t n);

}  // namespace fulcrum
