// SPDX-License-Identifier: Apache-2.0
//
// The engine: ports, workers and the control thread's handles on them.
//
// Start order (undone in reverse by stop): counters, publisher with an
// empty snapshot, ports, per-worker rings and neighbour tables, worker
// launch. One worker per EAL worker lcore; the main lcore (the caller's
// thread) never polls. The engine may be started once per process, since
// DPDK releases virtual devices when their ports close.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ctrl/publisher.hpp"
#include "ctrl/request.hpp"
#include "ctrl/snapshot_build.hpp"
#include "engine/counters.hpp"
#include "engine/port.hpp"
#include "engine/worker.hpp"
#include "ipvs/stats.hpp"

namespace fulcrum {

struct EngineConfig {
  std::vector<PortSpec> ports;
  PortSetup setup;                 // queues is set by the engine
  uint32_t neigh_max = 1024;
  uint32_t neigh_reachable_ms = 300000;
  uint32_t neigh_retry_ms = 1000;
  uint8_t neigh_retries = 3;
  uint8_t neigh_hold = 4;
  uint32_t idle_sleep_us = 0;
  IpvsConfig ipvs;
};

// Counter blocks for every worker, shared with whoever exposes them (the
// addon's ArrayBuffer) so they outlive the engine if needed.
using CounterBlocks = std::shared_ptr<LcoreCounters[]>;
using DestStatBlocks = std::shared_ptr<DestStats[]>;        // [workers][max_dests]
using ServiceStatBlocks = std::shared_ptr<ServiceStats[]>;  // [workers][max_services]
using LaddrStatBlocks = std::shared_ptr<LaddrStats[]>;      // [workers][max_laddrs]

// A pool's fill level at one moment: objects held, and how many it has.
struct PoolLevel {
  uint32_t used = 0;
  uint32_t capacity = 0;
};

class Engine {
 public:
  // EAL must be initialised. Returns nullptr and fills err on failure, with
  // everything already set up torn down again. When first is given, it is
  // published before the workers start, so no packet meets an empty
  // snapshot. Control thread.
  static std::unique_ptr<Engine> start(const EngineConfig& cfg, std::string& err,
                                       const SnapshotSpec* first = nullptr);
  ~Engine();  // stop()
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Stops and joins the workers, closes the ports. Idempotent. Control thread.
  void stop();
  bool running() const { return running_; }

  uint32_t workers() const { return uint32_t(workers_.size()); }
  const std::vector<Port>& ports() const { return ports_; }
  const CounterBlocks& counters() const { return counters_; }
  const DestStatBlocks& dest_stats() const { return dest_stats_; }
  const ServiceStatBlocks& service_stats() const { return svc_stats_; }
  const LaddrStatBlocks& laddr_stats() const { return laddr_stats_; }
  const IpvsConfig& ipvs_config() const { return ipvs_cfg_; }
  std::vector<unsigned> worker_lcores() const;

  // Each port's mbuf pool, in port order: mbufs held by packets wherever
  // they are (device rings, tx batches, neighbour and SYN proxy holds,
  // other workers' redirect rings). Mbufs in the per-lcore caches count as
  // free. Control thread; a moment's value while the workers run.
  std::vector<PoolLevel> mbuf_pools() const;
  // Each worker's SYN proxy state objects (one per connection the SYN
  // proxy is opening or translating), in worker order. Control thread.
  std::vector<PoolLevel> synproxy_pools() const;

  // Builds the snapshot spec describes as the next generation and
  // publishes it; frees retired snapshots when safe. Returns false, err
  // filled, when the spec is refused (the running snapshot stays).
  // Control thread.
  bool apply(const SnapshotSpec& spec, std::string& err);
  uint64_t generation() const { return generation_; }
  // How long the last apply() spent building and publishing (for the
  // control plane's apply-stage histogram).
  struct ApplyTimes {
    uint64_t build_ns = 0, publish_ns = 0;
  };
  const ApplyTimes& last_apply() const { return last_apply_; }
  size_t reclaim() { return pub_->reclaim(); }

  // Sends req to its worker and returns the id it will come back with.
  // Returns 0, err filled, when the worker index is bad or too many
  // requests are pending. Control thread.
  uint64_t submit(std::unique_ptr<Request> req, std::string& err);
  // Collects completed requests. Control thread, never blocks.
  std::vector<std::unique_ptr<Request>> poll();

 private:
  Engine() = default;
  bool init(const EngineConfig& cfg, std::string& err);
  bool init_workers(const EngineConfig& cfg, std::string& err);
  bool init_ipvs(std::string& err);
  bool init_redirects(std::string& err);
  bool launch(std::string& err);
  void drop_requests();

  bool running_ = false;
  std::atomic<bool> stop_{false};
  uint64_t generation_ = 0;
  ApplyTimes last_apply_;
  CounterBlocks counters_;
  DestStatBlocks dest_stats_;
  ServiceStatBlocks svc_stats_;
  LaddrStatBlocks laddr_stats_;
  IpvsConfig ipvs_cfg_;
  std::unique_ptr<Publisher> pub_;
  std::vector<Port> ports_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<rte_ring*> rings_;  // every ring we created, freed at stop
  rte_ring* done_ = nullptr;
  uint64_t next_request_id_ = 1;
  size_t in_flight_ = 0;
};

}  // namespace fulcrum
