// SPDX-License-Identifier: Apache-2.0
#include "ctrl/publisher.hpp"

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

namespace fulcrum {

std::unique_ptr<Publisher> Publisher::create(uint32_t workers, std::string& err) {
  size_t sz = rte_rcu_qsbr_get_memsize(workers);
  auto* qs = static_cast<rte_rcu_qsbr*>(rte_zmalloc("fulcrum_qsbr", sz, RTE_CACHE_LINE_SIZE));
  if (qs == nullptr || rte_rcu_qsbr_init(qs, workers) != 0) {
    rte_free(qs);
    err = "cannot allocate the RCU state for " + std::to_string(workers) + " workers";
    return nullptr;
  }
  for (uint32_t w = 0; w < workers; w++) rte_rcu_qsbr_thread_register(qs, w);
  return std::unique_ptr<Publisher>(new Publisher(qs));
}

Publisher::~Publisher() {
  current_.store(nullptr, std::memory_order_release);
  retired_.clear();
  owned_.reset();
  rte_free(qs_);
}

void Publisher::publish(std::unique_ptr<Snapshot> snap) {
  current_.store(snap.get(), std::memory_order_release);
  if (owned_) retired_.push_back(Retired{rte_rcu_qsbr_start(qs_), std::move(owned_)});
  owned_ = std::move(snap);
  reclaim();
}

size_t Publisher::reclaim() {
  while (!retired_.empty() && rte_rcu_qsbr_check(qs_, retired_.front().token, false) == 1)
    retired_.pop_front();
  return retired_.size();
}

void Publisher::online(uint32_t worker) { rte_rcu_qsbr_thread_online(qs_, worker); }

void Publisher::offline(uint32_t worker) { rte_rcu_qsbr_thread_offline(qs_, worker); }

void Publisher::quiescent(uint32_t worker) { rte_rcu_qsbr_quiescent(qs_, worker); }

}  // namespace fulcrum
