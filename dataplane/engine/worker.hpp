// SPDX-License-Identifier: Apache-2.0
//
// The per-lcore worker loop: take the current snapshot, drain what other
// workers learned, rx burst and process_burst() per port, flush the tx
// batches, run the neighbour timers, serve control requests, report a
// quiescent state. Nothing else lives here.
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

// Sends ctx.tx's batches on the worker's queues, counting what went out
// and dropping (counted) what the rings refused. Owner worker.
void worker_flush(Worker& w);

}  // namespace fulcrum
