// SPDX-License-Identifier: Apache-2.0
//
// The state one worker's packet processing works on.
//
// process_burst() and everything below it take a WorkerCtx and nothing
// else: the engine's worker loop fills one from its ports and rings, while
// golden tests, fuzzers and benchmarks fill one by hand and drive the same
// code with no port behind it. Outgoing packets collect in `tx`, per
// output port; whoever owns the ctx sends (or inspects) them afterwards.
#pragma once

#include <cstdint>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "ctrl/snapshot.hpp"
#include "engine/counters.hpp"
#include "net/neigh.hpp"
#include "net/nexthop_cache.hpp"

namespace fulcrum {

struct IpvsWorker;

constexpr uint16_t kMaxPorts = 8;
constexpr uint16_t kBurst = 32;
// Room for one rx burst plus every packet a neighbour resolution releases.
constexpr uint16_t kTxCap = 512;

struct TxBatch {
  uint16_t n[kMaxPorts] = {};
  rte_mbuf* pkts[kMaxPorts][kTxCap];
};

// Tells the other workers what this one learned from ARP, so that an ARP
// reply received by one worker resolves the neighbour for all of them.
class NeighPeers {
 public:
  virtual ~NeighPeers() = default;
  virtual void share(uint16_t port, uint32_t ip, const rte_ether_addr& mac, bool create) = 0;
};

struct PortView {
  rte_ether_addr mac;
  uint16_t mtu;
};

struct WorkerCtx {
  uint16_t worker = 0;
  uint16_t nports = 0;
  PortView ports[kMaxPorts] = {};
  LcoreCounters* ctr = nullptr;
  NeighTable* neigh = nullptr;
  rte_mempool* pool = nullptr;     // for packets we originate (ARP)
  NeighPeers* peers = nullptr;     // null with a single worker
  // Software flow steering (see steer.hpp): redirect_to[w] is the ring to
  // worker w (null for this worker); null with a single worker.
  uint16_t workers = 1;
  rte_ring* const* redirect_to = nullptr;
  IpvsWorker* ipvs = nullptr;      // null: no IPVS (tests of the L2/L3 path)
  const Snapshot* snap = nullptr;  // valid for the current loop iteration
  uint64_t now = 0;                // TSC at the start of the iteration
  // ip_output's route + neighbour answers (net/output.cpp): for targets
  // on connected subnets, and for the gateways of routed ones.
  NexthopCache targets, gateways;
  TxBatch tx;

  void count(Counter c, uint64_t n = 1) { ctr->add(c, n); }
  void drop(rte_mbuf* m, Counter why) {
    ctr->add(why);
    rte_pktmbuf_free(m);
  }
  // Queues m on port's tx batch; drops it (counted) when the batch is full.
  void send(uint16_t port, rte_mbuf* m) {
    if (tx.n[port] == kTxCap) return drop(m, Counter::drop_tx_full);
    tx.pkts[port][tx.n[port]++] = m;
  }
};

}  // namespace fulcrum
