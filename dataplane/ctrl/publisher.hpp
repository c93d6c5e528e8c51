// SPDX-License-Identifier: Apache-2.0
//
// Snapshot publication with RCU (rte_rcu_qsbr).
//
// publish() swaps the current pointer and retires the old snapshot with a
// QSBR token; reclaim() frees retired snapshots whose token every worker
// has passed. Neither blocks: the control thread calls reclaim() from a
// timer, so a slow worker delays memory reuse, never the event loop.
// Workers call enter() at the top of each loop iteration and quiescent()
// at the bottom; between the two the snapshot they hold stays alive.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "ctrl/snapshot.hpp"

struct rte_rcu_qsbr;

namespace fulcrum {

class Publisher {
 public:
  // workers: how many threads will read. Returns nullptr, err filled, on
  // allocation failure. Control thread.
  static std::unique_ptr<Publisher> create(uint32_t workers, std::string& err);
  ~Publisher();  // all workers must be offline
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Makes snap current and retires the previous one. Control thread.
  void publish(std::unique_ptr<Snapshot> snap);
  // Frees retired snapshots no worker can still see; returns how many
  // remain retired. Control thread, never blocks.
  size_t reclaim();

  // Worker side. `worker` is the worker index (0..workers-1).
  void online(uint32_t worker);
  void offline(uint32_t worker);
  const Snapshot* current() const { return current_.load(std::memory_order_acquire); }
  void quiescent(uint32_t worker);

 private:
  Publisher(rte_rcu_qsbr* qs) : qs_(qs) {}
  struct Retired {
    uint64_t token;
    std::unique_ptr<Snapshot> snap;
  };
  rte_rcu_qsbr* qs_;
  std::atomic<Snapshot*> current_{nullptr};
  std::unique_ptr<Snapshot> owned_;   // what current_ points to
  std::deque<Retired> retired_;
};

}  // namespace fulcrum
