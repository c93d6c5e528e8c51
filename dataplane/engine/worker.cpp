// SPDX-License-Identifier: Apache-2.0
#include "engine/worker.hpp"

#include <cstring>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "ctrl/request.hpp"
#include "engine/pipeline.hpp"
#include "ipvs/ipvs.hpp"
#include "net/output.hpp"

namespace fulcrum {
namespace {

constexpr unsigned kInboxBurst = 32;

void drain_inbox(Worker& w) {
  NeighUpdate ups[kInboxBurst];
  unsigned n = rte_ring_dequeue_burst_elem(w.inbox, ups, sizeof(NeighUpdate), kInboxBurst, nullptr);
  for (unsigned i = 0; i < n; i++) {
    rte_ether_addr mac;
    std::memcpy(mac.addr_bytes, ups[i].mac, sizeof(mac.addr_bytes));
    neigh_learn_shared(w.ctx, ups[i].port, ups[i].ip, mac, ups[i].create != 0);
  }
}

void serve(Worker& w, Request& req) {
  switch (req.kind) {
    case RequestKind::kDumpNeighbours: req.neighbours = w.neigh->dump(); break;
    case RequestKind::kZeroCounters: std::memset(w.ctx.ctr, 0, sizeof(*w.ctx.ctr)); break;
    case RequestKind::kDumpConns: req.conns = ipvs_dump(*w.ipvs, req.conn_filter); break;
  }
}

void serve_requests(Worker& w) {
  void* p;
  while (rte_ring_dequeue(w.requests, &p) == 0) {
    serve(w, *static_cast<Request*>(p));
    w.ctx.count(Counter::requests_done);
    // done is sized for every request in flight, so this cannot fail.
    rte_ring_enqueue(w.done, p);
  }
}

uint32_t poll_ports(Worker& w) {
  rte_mbuf* pkts[kBurst];
  uint32_t got = 0;
  for (uint16_t p = 0; p < w.ctx.nports; p++) {
    uint16_t n = rte_eth_rx_burst(w.port_ids[p], uint16_t(w.index), pkts, kBurst);
    if (n == 0) continue;
    process_burst(w.ctx, p, pkts, n);
    got += n;
  }
  return got;
}

// Packets other workers received for connections this one owns.
uint32_t poll_redirects(Worker& w) {
  rte_mbuf* pkts[kBurst];
  uint32_t got = 0;
  for (rte_ring* r : w.redirect_from) {
    if (r == nullptr) continue;
    unsigned n = rte_ring_sc_dequeue_burst(r, reinterpret_cast<void**>(pkts), kBurst, nullptr);
    if (n == 0) continue;
    process_redirected(w.ctx, pkts, uint16_t(n));
    got += n;
  }
  return got;
}

// Picks up a newly published snapshot; worker 0 announces new addresses.
void take_snapshot(Worker& w, uint64_t& seen_gen, uint64_t& announced) {
  w.ctx.snap = w.pub->current();
  if (w.ctx.snap->generation == seen_gen) return;
  seen_gen = w.ctx.snap->generation;
  w.ctx.count(Counter::snapshot_switches);
  if (w.index == 0) announced = announce_addresses(w.ctx, announced);
}

void flush_port(Worker& w, uint16_t p) {
  uint16_t n = w.ctx.tx.n[p];
  rte_mbuf** pkts = w.ctx.tx.pkts[p];
  uint64_t bytes[kTxCap];
  for (uint16_t i = 0; i < n; i++) bytes[i] = rte_pktmbuf_pkt_len(pkts[i]);
  uint16_t sent = rte_eth_tx_burst(w.port_ids[p], uint16_t(w.index), pkts, n);
  uint64_t sent_bytes = 0;
  for (uint16_t i = 0; i < sent; i++) sent_bytes += bytes[i];
  w.ctx.count(Counter::tx_packets, sent);
  w.ctx.count(Counter::tx_bytes, sent_bytes);
  for (uint16_t i = sent; i < n; i++) w.ctx.drop(pkts[i], Counter::drop_tx_full);
  w.ctx.tx.n[p] = 0;
  w.tx_since[p] = 0;
}

// Sends the batches that hold a burst or have waited their port's
// tx_coalesce_us (with 0, every batch every iteration, and no clock kept).
// A batch's wait is counted from the start of the iteration that queued
// its first packet.
void flush_due(Worker& w) {
  for (uint16_t p = 0; p < w.ctx.nports; p++) {
    uint16_t n = w.ctx.tx.n[p];
    if (n == 0) continue;
    if (n < kBurst && w.tx_hold_tsc[p] != 0) {
      if (w.tx_since[p] == 0) w.tx_since[p] = w.ctx.now;
      if (w.ctx.now - w.tx_since[p] < w.tx_hold_tsc[p]) continue;
    }
    flush_port(w, p);
  }
}

}  // namespace

void worker_flush(Worker& w) {
  for (uint16_t p = 0; p < w.ctx.nports; p++)
    if (w.ctx.tx.n[p] != 0) flush_port(w, p);
}

int worker_main(void* arg) {
  Worker& w = *static_cast<Worker*>(arg);
  w.pub->online(w.index);
  uint64_t seen_gen = UINT64_MAX, announced = 0, last_tick = rte_rdtsc();
  while (!w.stop->load(std::memory_order_relaxed)) {
    w.ctx.now = rte_rdtsc();
    take_snapshot(w, seen_gen, announced);
    drain_inbox(w);
    uint32_t got = poll_ports(w);
    got += poll_redirects(w);
    if (w.ctx.now - last_tick >= w.tick_tsc) {
      neigh_tick(w.ctx);
      last_tick = w.ctx.now;
    }
    if (w.ctx.ipvs != nullptr) {
      w.ctx.ipvs->tick(w.ctx.now);
      ipvs_expire(w.ctx);
    }
    flush_due(w);
    serve_requests(w);
    w.pub->quiescent(w.index);
    w.ctx.count(got != 0 ? Counter::polls_busy : Counter::polls_idle);
    if (got == 0 && w.idle_sleep_us != 0) rte_delay_us_sleep(w.idle_sleep_us);
  }
  worker_flush(w);  // what coalescing still holds goes out before the ports stop
  w.ctx.snap = nullptr;
  w.pub->offline(w.index);
  return 0;
}

}  // namespace fulcrum
