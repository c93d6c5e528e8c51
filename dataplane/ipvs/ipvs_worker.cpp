// SPDX-License-Identifier: Apache-2.0
#include <algorithm>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_mempool.h>

#include "ipvs/ipvs.hpp"

namespace fulcrum {
namespace {

constexpr uint32_t kWheelSlots = 4096;  // x 10 ms ticks: a 41 s horizon, longer timeouts wrap lazily

}  // namespace

std::unique_ptr<IpvsWorker> IpvsWorker::create(uint32_t worker, uint32_t workers,
                                               const IpvsConfig& cfg, DestStats* dest_stats,
                                               ServiceStats* svc_stats, LaddrStats* laddr_stats,
                                               std::string& err) {
  auto v = std::make_unique<IpvsWorker>();
  v->worker = worker;
  v->workers = workers;
  v->cfg = cfg;
  std::string name = "fl_conn" + std::to_string(worker);
  v->conns = ConnTable::create(name.c_str(), cfg.max_conns, int(rte_socket_id()), err);
  if (!v->conns) return nullptr;
  v->tsc_per_ms = rte_get_tsc_hz() / 1000;
  v->tick(rte_rdtsc());
  v->wheel = std::make_unique<TimerWheel>(cfg.tick_ms, kWheelSlots, v->now_tick);
  v->dest_stats = dest_stats;
  v->svc_stats = svc_stats;
  v->laddrs = std::make_unique<LaddrPools>(worker, workers, cfg.max_laddrs, laddr_stats, cfg.lports);
  uint32_t sp_states = std::min(cfg.synproxy.max_conns, cfg.max_conns);
  if (sp_states > 0) {
    std::string sp_name = "fl_sp" + std::to_string(worker);
    v->sp_pool = rte_mempool_create(sp_name.c_str(), sp_states, sizeof(SynproxyState), 0, 0, nullptr, nullptr,
                                    nullptr, nullptr, int(rte_socket_id()), MEMPOOL_F_SP_PUT | MEMPOOL_F_SC_GET);
    if (v->sp_pool == nullptr) return err = "synproxy state pool of " + std::to_string(sp_states), nullptr;
  }
  v->sched_state.resize(cfg.max_services);
  v->sched_gen.assign(cfg.max_services, UINT64_MAX);
  v->overloaded.assign(cfg.max_dests, 0);
  // Schedulers see every dest of a service per pick: reserve so that no
  // pick allocates.
  v->scratch.reserve(256);
  v->load.reserve(256);
  v->rng ^= uint64_t(worker + 1) * 0xbf58476d1ce4e5b9ULL;
  return v;
}

IpvsWorker::~IpvsWorker() {
  // Segments held for dests that never answered go back to their pool.
  if (conns)
    conns->for_each([&](Conn& c) {
      if (c.flags & kConnSynproxy) synproxy_release(*this, c);
    });
  rte_mempool_free(sp_pool);
}

}  // namespace fulcrum
