// SPDX-License-Identifier: Apache-2.0
#include "engine/engine.hpp"

#include <chrono>
#include <cstring>

#include <rte_cycles.h>
#include <rte_random.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mempool.h>

namespace fulcrum {
namespace {

constexpr unsigned kInboxSize = 1024;
constexpr unsigned kRedirectRingSize = 1024;  // packets in flight between two workers
constexpr unsigned kRequestRingSize = 64;

std::atomic<bool> g_started_once{false};

uint64_t ms_to_tsc(uint32_t ms) { return rte_get_tsc_hz() / 1000 * ms; }
uint64_t us_to_tsc(uint32_t us) { return rte_get_tsc_hz() / 1000000 * us; }

PoolLevel level_of(const rte_mempool* mp) { return PoolLevel{rte_mempool_in_use_count(mp), mp->size}; }

// Shares what a worker learned with every other worker's inbox. A full
// inbox loses the update; that worker then resolves the neighbour itself.
class RingPeers final : public NeighPeers {
 public:
  RingPeers(std::vector<rte_ring*> others) : others_(std::move(others)) {}
  void share(uint16_t port, uint32_t ip, const rte_ether_addr& mac, bool create) override {
    NeighUpdate up{};
    up.ip = ip;
    up.port = port;
    std::memcpy(up.mac, mac.addr_bytes, sizeof(up.mac));
    up.create = create ? 1 : 0;
    for (rte_ring* r : others_) rte_ring_enqueue_elem(r, &up, sizeof(up));
  }

 private:
  std::vector<rte_ring*> others_;
};

rte_ring* make_ring(const std::string& name, unsigned esize, unsigned size, unsigned flags,
                    std::vector<rte_ring*>& all, std::string& err) {
  rte_ring* r = rte_ring_create_elem(name.c_str(), esize, size, int(rte_socket_id()), flags);
  if (r == nullptr) err = "cannot create ring " + name + ": " + rte_strerror(rte_errno);
  else all.push_back(r);
  return r;
}

}  // namespace

std::unique_ptr<Engine> Engine::start(const EngineConfig& cfg, std::string& err, const SnapshotSpec* first) {
  if (g_started_once.exchange(true)) {
    err = "the engine was already started in this process; start a new process";
    return nullptr;
  }
  std::unique_ptr<Engine> e(new Engine());
  if (!e->init(cfg, err) || (first != nullptr && !e->apply(*first, err)) || !e->launch(err)) {
    e->stop();
    return nullptr;
  }
  return e;
}

Engine::~Engine() { stop(); }

bool Engine::init(const EngineConfig& cfg, std::string& err) {
  uint32_t nworkers = rte_lcore_count() - 1;
  if (nworkers == 0) return err = "no worker lcores: give EAL at least two lcores", false;
  if (cfg.ports.empty() || cfg.ports.size() > kMaxPorts)
    return err = "need 1 to " + std::to_string(kMaxPorts) + " ports", false;
  counters_ = CounterBlocks(new LcoreCounters[nworkers]());
  ipvs_cfg_ = cfg.ipvs;
  // The SYN cookie key: secret, the same for every worker (an ACK may come
  // back to another worker than its SYN), new with every start.
  ipvs_cfg_.synproxy.key = CookieKey{rte_rand(), rte_rand()};
  dest_stats_ = DestStatBlocks(new DestStats[size_t(nworkers) * ipvs_cfg_.max_dests]());
  svc_stats_ = ServiceStatBlocks(new ServiceStats[size_t(nworkers) * ipvs_cfg_.max_services]());
  laddr_stats_ = LaddrStatBlocks(new LaddrStats[size_t(nworkers) * ipvs_cfg_.max_laddrs]());
  pub_ = Publisher::create(nworkers, err);
  if (!pub_) return false;
  pub_->publish(std::make_unique<Snapshot>());
  PortSetup setup = cfg.setup;
  setup.queues = uint16_t(nworkers);
  for (size_t i = 0; i < cfg.ports.size(); i++) {
    ports_.emplace_back();
    if (!port_open(cfg.ports[i], setup, uint16_t(i), ports_.back(), err)) return false;
  }
  for (uint32_t w = 0; w < nworkers; w++) workers_.push_back(std::make_unique<Worker>());
  return init_workers(cfg, err) && init_ipvs(err);
}

bool Engine::init_ipvs(std::string& err) {
  uint32_t n = workers();
  std::vector<const DestStats*> rows;
  for (uint32_t w = 0; w < n; w++) rows.push_back(&dest_stats_[size_t(w) * ipvs_cfg_.max_dests]);
  for (auto& w : workers_) {
    w->ipvs = IpvsWorker::create(w->index, n, ipvs_cfg_, &dest_stats_[size_t(w->index) * ipvs_cfg_.max_dests],
                                 &svc_stats_[size_t(w->index) * ipvs_cfg_.max_services],
                                 &laddr_stats_[size_t(w->index) * ipvs_cfg_.max_laddrs], err);
    if (!w->ipvs) return false;
    w->ipvs->all_dest_stats = rows;
    w->ctx.ipvs = w->ipvs.get();
  }
  return true;
}

bool Engine::init_workers(const EngineConfig& cfg, std::string& err) {
  done_ = make_ring("fl_done", sizeof(void*), kRequestRingSize * 4, RING_F_SC_DEQ, rings_, err);
  if (done_ == nullptr) return false;
  NeighConfig nc{cfg.neigh_max, ms_to_tsc(cfg.neigh_reachable_ms), ms_to_tsc(cfg.neigh_retry_ms),
                 cfg.neigh_retries, cfg.neigh_hold};
  for (auto& w : workers_) {
    std::string id = std::to_string(&w - &workers_[0]);
    w->index = uint32_t(&w - &workers_[0]);
    w->inbox = make_ring("fl_inbox" + id, sizeof(NeighUpdate), kInboxSize, RING_F_SC_DEQ, rings_, err);
    w->requests = make_ring("fl_req" + id, sizeof(void*), kRequestRingSize,
                            RING_F_SP_ENQ | RING_F_SC_DEQ, rings_, err);
    if (w->inbox == nullptr || w->requests == nullptr) return false;
    w->neigh = NeighTable::create(nc, ("fl_neigh" + id).c_str(), int(rte_socket_id()), err);
    if (!w->neigh) return false;
    w->done = done_;
    w->stop = &stop_;
    w->pub = pub_.get();
    w->tick_tsc = ms_to_tsc(10);
    w->idle_sleep_us = cfg.idle_sleep_us;
    WorkerCtx& ctx = w->ctx;
    ctx.worker = uint16_t(w->index);
    ctx.nports = uint16_t(ports_.size());
    ctx.ctr = &counters_[w->index];
    ctx.neigh = w->neigh.get();
    ctx.pool = ports_[0].pool;
    for (const Port& p : ports_) {
      ctx.ports[p.index].mac = p.mac;
      ctx.ports[p.index].mtu = cfg.ports[p.index].mtu;
      w->port_ids[p.index] = p.port_id;
      w->tx_hold_tsc[p.index] = us_to_tsc(cfg.ports[p.index].tx_coalesce_us);
    }
  }
  if (!init_redirects(err)) return false;
  for (auto& w : workers_) {
    std::vector<rte_ring*> others;
    for (auto& o : workers_)
      if (o != w) others.push_back(o->inbox);
    if (!others.empty()) w->peers = std::make_unique<RingPeers>(std::move(others));
    w->ctx.peers = w->peers.get();
  }
  return true;
}

// One single-producer single-consumer ring per ordered pair of workers
// (steer.hpp); none with a single worker.
bool Engine::init_redirects(std::string& err) {
  size_t n = workers_.size();
  if (n < 2) return true;
  for (auto& w : workers_) {
    w->redirect_to.assign(n, nullptr);
    w->redirect_from.assign(n, nullptr);
  }
  for (size_t from = 0; from < n; from++)
    for (size_t to = 0; to < n; to++) {
      if (from == to) continue;
      std::string name = "fl_redir" + std::to_string(from) + "_" + std::to_string(to);
      rte_ring* r = make_ring(name, sizeof(void*), kRedirectRingSize, RING_F_SP_ENQ | RING_F_SC_DEQ, rings_, err);
      if (r == nullptr) return false;
      workers_[from]->redirect_to[to] = r;
      workers_[to]->redirect_from[from] = r;
    }
  for (auto& w : workers_) {
    w->ctx.workers = uint16_t(n);
    w->ctx.redirect_to = w->redirect_to.data();
  }
  return true;
}

bool Engine::launch(std::string& err) {
  size_t w = 0;
  unsigned lcore;
  RTE_LCORE_FOREACH_WORKER(lcore) {
    workers_[w]->lcore = lcore;
    int rc = rte_eal_remote_launch(worker_main, workers_[w].get(), lcore);
    if (rc != 0) return err = "cannot launch worker on lcore " + std::to_string(lcore), false;
    running_ = true;  // at least one launched: stop() must join
    w++;
  }
  return true;
}

void Engine::stop() {
  stop_ = true;
  if (running_) rte_eal_mp_wait_lcore();
  running_ = false;
  drop_requests();
  // Neighbour tables free the packets they hold before the pools go away.
  workers_.clear();
  for (Port& p : ports_) port_close(p);
  ports_.clear();
  for (rte_ring* r : rings_) rte_ring_free(r);
  rings_.clear();
  done_ = nullptr;  // stop() runs again from the destructor
  pub_.reset();
}

void Engine::drop_requests() {
  void* p;
  for (auto& w : workers_)
    while (w->requests != nullptr && rte_ring_dequeue(w->requests, &p) == 0)
      delete static_cast<Request*>(p);
  if (done_ != nullptr) poll();
  in_flight_ = 0;
}

std::vector<unsigned> Engine::worker_lcores() const {
  std::vector<unsigned> out;
  for (auto& w : workers_) out.push_back(w->lcore);
  return out;
}

std::vector<PoolLevel> Engine::mbuf_pools() const {
  std::vector<PoolLevel> out;
  for (const Port& p : ports_) out.push_back(level_of(p.pool));
  return out;
}

std::vector<PoolLevel> Engine::synproxy_pools() const {
  std::vector<PoolLevel> out;
  for (const auto& w : workers_)
    out.push_back(w->ipvs->sp_pool != nullptr ? level_of(w->ipvs->sp_pool) : PoolLevel{0, 0});
  return out;
}

bool Engine::apply(const SnapshotSpec& spec, std::string& err) {
  SnapshotLimits limits{uint16_t(ports_.size()), ipvs_cfg_.max_services, ipvs_cfg_.max_dests,
                        ipvs_cfg_.max_laddrs, ipvs_cfg_.synproxy.max_conns > 0};
  using Clock = std::chrono::steady_clock;
  auto ns = [](Clock::time_point a, Clock::time_point b) {
    return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count());
  };
  auto t0 = Clock::now();
  auto snap = build_snapshot(spec, pub_->current(), generation_ + 1, limits, err);
  auto t1 = Clock::now();
  last_apply_.build_ns = ns(t0, t1);
  if (!snap) return false;
  generation_++;
  pub_->publish(std::move(snap));
  last_apply_.publish_ns = ns(t1, Clock::now());
  return true;
}

uint64_t Engine::submit(std::unique_ptr<Request> req, std::string& err) {
  if (req->worker >= workers_.size()) return err = "no worker " + std::to_string(req->worker), 0;
  if (!running_) return err = "the engine is stopped", 0;
  if (in_flight_ >= rte_ring_get_capacity(done_)) return err = "too many requests pending", 0;
  uint64_t id = req->id = next_request_id_++;
  if (rte_ring_enqueue(workers_[req->worker]->requests, req.get()) != 0)
    return err = "worker " + std::to_string(req->worker) + " has too many requests pending", 0;
  req.release();
  in_flight_++;
  return id;
}

std::vector<std::unique_ptr<Request>> Engine::poll() {
  std::vector<std::unique_ptr<Request>> out;
  void* p;
  while (rte_ring_dequeue(done_, &p) == 0) {
    out.emplace_back(static_cast<Request*>(p));
    in_flight_--;
  }
  return out;
}

}  // namespace fulcrum
