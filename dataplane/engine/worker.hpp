// SPDX-License-Identifier: Apache-2.0
//
// The per-lcore worker loop: take the current snapshot, drain what other
// workers learned, rx burst and process_burst() per port, flush the tx
// batches that are due, run the neighbour timers, serve control requests,
// report a quiescent state. Nothing else lives here.
//
// Tx coalescing: a port's batch goes out when it holds a burst (kBurst),
// or once its oldest packet has waited the port's tx_coalesce_us, rather
// than on every loop iteration. On a NIC a tx burst is a doorbell write
// and coalescing buys little (the default is 0 there). On a port whose
// transmit is a system call (af_packet, af_xdp) every burst is a sendto()
// and the kernel's delivery behind it; a busy-polling worker finds one or
// two packets per poll, so unbatched it makes a system call, and wakes the
// receiving CPU, for nearly every packet (bench/RESULTS.md, 2026-12-06).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include <rte_ring.h>

#include "ctrl/publisher.hpp"
#include "engine/worker_ctx.hpp"
#include "ipvs/ipvs.hpp"

namespace fulcrum {

// A neighbour learned by one worker, sent to the others' inboxes.
struct NeighUpdate {
  uint32_t ip;
  uint16_t port;
  uint8_t mac[RTE_ETHER_ADDR_LEN];
  uint8_t create;
  uint8_t pad[3];
};
static_assert(sizeof(NeighUpdate) == 16, "ring element size must be a multiple of 4");

struct Worker {
  uint32_t index = 0;
  unsigned lcore = 0;
  uint16_t port_ids[kMaxPorts] = {};  // DPDK port id per config port index
  uint64_t tick_tsc = 0;              // neighbour timer period
  uint32_t idle_sleep_us = 0;
  uint64_t tx_hold_tsc[kMaxPorts] = {};  // tx_coalesce_us per port, in TSC cycles
  uint64_t tx_since[kMaxPorts] = {};     // TSC of the iteration that began the port's batch; 0: empty
  const std::atomic<bool>* stop = nullptr;
  Publisher* pub = nullptr;
  rte_ring* inbox = nullptr;          // NeighUpdate, many producers
  rte_ring* requests = nullptr;       // Request*, from the control thread
  rte_ring* done = nullptr;           // Request*, shared by all workers
  std::vector<rte_ring*> redirect_to;    // [worker]: packets handed to it (null: self)
  std::vector<rte_ring*> redirect_from;  // [worker]: packets it hands to this one
  std::unique_ptr<NeighTable> neigh;
  std::unique_ptr<NeighPeers> peers;
  std::unique_ptr<IpvsWorker> ipvs;
  WorkerCtx ctx;
};

// Entry point for rte_eal_remote_launch; arg is a Worker*. Returns 0 when
// *stop becomes true.
int worker_main(void* arg);

// Sends all of ctx.tx's batches on the worker's queues, counting what went
// out and dropping (counted) what the rings refused. Owner worker.
void worker_flush(Worker& w);

}  // namespace fulcrum
