// SPDX-License-Identifier: Apache-2.0
//
// The IPVS packet path of one worker: what ip_vs_in does in LVS.
//
// A TCP or UDP packet is looked up in the worker's connection table by its
// tuple, which finds the connection from either direction. A hit advances
// the TCP state, refreshes the expiry (a store: the timing wheel re-queues
// lazily) and forwards by the connection's mode. A miss that is addressed
// to a service (and, for TCP, is a SYN) is scheduled: the scheduler picks
// a dest, a connection is created and indexed, and the packet forwarded.
// Connections expire from a per-worker timing wheel. Everything here runs
// on the owner worker only; no locks.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <rte_mbuf.h>

#include "ctrl/request.hpp"
#include "engine/worker_ctx.hpp"
#include "ipvs/conn.hpp"
#include "ipvs/laddr.hpp"
#include "ipvs/service.hpp"
#include "ipvs/synproxy.hpp"
#include "ipvs/stats.hpp"
#include "ipvs/timer_wheel.hpp"
#include "net/packet.hpp"

namespace fulcrum {

struct IpvsConfig {
  uint32_t max_conns = 65536;    // per worker
  uint32_t max_services = 1024;  // service ids are below this
  uint32_t max_dests = 8192;     // dest ids are below this
  uint32_t max_laddrs = 64;      // local address ids are below this
  LportRange lports;             // the local ports FULLNAT/SNAT hand out
  SynproxyConfig synproxy;
  uint32_t tick_ms = 10;         // timing wheel resolution
};

// One worker's IPVS state. The engine builds it; tests may too. What
// every packet or loop reads comes first, in one cache line of its own:
// where those fields fell across lines was left to the sizes of the config
// before them, and moved FULLNAT's rate by 8 % when a config field was
// added (bench/RESULTS.md, 2026-12-02, synproxy.max_conns).
struct alignas(64) IpvsWorker {
  std::unique_ptr<ConnTable> conns;
  std::unique_ptr<TimerWheel> wheel;
  DestStats* dest_stats = nullptr;   // this worker's rows [max_dests]
  ServiceStats* svc_stats = nullptr; // [max_services]
  uint64_t now_ms = 0;               // set by tick() each loop iteration
  uint64_t now_tick = 0;
  uint64_t tsc_per_ms = 1;
  uint64_t burst_changes = 0;  // conns->changes() when the burst was looked up
  static constexpr size_t kHotBytes = 2 * sizeof(std::unique_ptr<ConnTable>) + 2 * sizeof(void*) + 4 * sizeof(uint64_t);
  // The rest: per new connection, per scheduling pick, or colder.
  uint32_t worker = 0;
  uint32_t workers = 1;
  IpvsConfig cfg;
  std::unique_ptr<LaddrPools> laddrs; // this worker's ports on every local address
  rte_mempool* sp_pool = nullptr;     // SynproxyState objects (synproxy.max_conns); none when 0
  std::vector<const DestStats*> all_dest_stats;  // every worker's rows, for load sums
  std::vector<std::unique_ptr<SchedState>> sched_state;  // by service id
  std::vector<uint64_t> sched_gen;                       // snapshot that built it
  std::vector<uint8_t> overloaded;                       // by dest id
  std::vector<SchedDest> scratch;                        // per pick, reused
  std::vector<DestLoad> load;
  uint64_t rng = 0x9e3779b97f4a7c15ULL;
  SynAnswers syn_answers;  // the burst's SYNs, answered after it
  ServiceMemo svc_memo;    // the service of the last packet no connection claimed

  // Builds the state; nullptr and err on failure. Control thread.
  static std::unique_ptr<IpvsWorker> create(uint32_t worker, uint32_t workers,
                                            const IpvsConfig& cfg, DestStats* dest_stats,
                                            ServiceStats* svc_stats, LaddrStats* laddr_stats,
                                            std::string& err);
  ~IpvsWorker();  // frees every connection

  // Advances the clock to TSC value tsc. Owner worker.
  void tick(uint64_t tsc) {
    now_ms = tsc / tsc_per_ms;
    now_tick = now_ms / cfg.tick_ms;
  }
};
static_assert(IpvsWorker::kHotBytes == 64, "the per-packet fields of IpvsWorker fill its first cache line");

// Looks up the connections of a burst's TCP/UDP packets at once (one
// pipelined rte_hash bulk lookup, then a prefetch of every connection
// found), so that their cache misses overlap; hits[i] is for pkts[i].
// Owner worker.
void ipvs_lookup_burst(WorkerCtx& ctx, rte_mbuf** pkts, const PacketMeta* meta, uint16_t n,
                       ConnHit* hits);

// Handles a validated TCP/UDP packet (or ICMP error) if a connection or a
// service claims it. pre is its ipvs_lookup_burst() result, or nullptr;
// it is ignored when the table changed since (an earlier packet of the
// burst created or ended a connection). Returns false (m untouched) when
// nothing claims the packet; true when m was consumed (forwarded or
// dropped and counted). Owner worker.
bool ipvs_in(WorkerCtx& ctx, rte_mbuf* m, const PacketMeta& meta, const ConnHit* pre = nullptr);

// Expires the connections that are due (bounded work per call). Owner worker.
void ipvs_expire(WorkerCtx& ctx);

// The worker's connections (and templates) matching f. Owner worker.
std::vector<ConnInfo> ipvs_dump(const IpvsWorker& v, const ConnFilter& f);

}  // namespace fulcrum
