// SPDX-License-Identifier: Apache-2.0
//
// Resolved next hops: an IPv4 address -> output port and next-hop MAC. A
// worker keeps two (net/output.cpp): one keyed by the target, for targets
// on connected subnets (its dests), and one keyed by the gateway, for
// everything routed (the clients behind it, too many to cache one by one).
//
// Without them every packet pays a longest-prefix match and a neighbour
// lookup (14 % of a FULLNAT packet's cycles, bench/RESULTS.md), although
// both answers change rarely: routes only with a new snapshot, MACs only
// when the neighbour table learns, forgets or replaces one. So an entry is
// valid while the snapshot generation and the neighbour table's version
// are the ones it was filled under; when either moves, every entry is
// stale at once (an epoch bump, no sweep), and the next packet to each
// address takes the full path and fills its entry again.
//
// Direct-mapped: a colliding address overwrites, which costs the full path
// and never a wrong answer (the entry holds its address). Owner worker only.
#pragma once

#include <cstdint>

#include <rte_ether.h>

namespace fulcrum {

class NexthopCache {
 public:
  struct Hop {
    uint32_t target;  // network order
    uint32_t epoch;   // valid while equal to the cache's epoch
    rte_ether_addr mac;
    uint16_t port;
  };
  static_assert(sizeof(Hop) == 16);

  // The cached hop for target under (gen, neigh_version), or nullptr.
  const Hop* find(uint32_t target, uint64_t gen, uint64_t neigh_version) {
    if (gen != gen_ || neigh_version != neigh_version_) restart(gen, neigh_version);
    const Hop& h = hops_[slot(target)];
    return h.epoch == epoch_ && h.target == target ? &h : nullptr;
  }

  // Records target's hop; call right after a find() that missed, under the
  // same (gen, neigh_version).
  void fill(uint32_t target, uint16_t port, const rte_ether_addr& mac) {
    hops_[slot(target)] = Hop{target, epoch_, mac, port};
  }

 private:
  static constexpr uint32_t kSlotBits = 8;  // 256 slots, 4 KB
  static constexpr uint32_t kSlots = 1u << kSlotBits;
  // Fibonacci hashing: the top bits of the product depend on every bit of
  // the address, so targets of one subnet spread.
  static uint32_t slot(uint32_t target) { return (target * 0x9e3779b1u) >> (32 - kSlotBits); }

  void restart(uint64_t gen, uint64_t neigh_version) {
    gen_ = gen, neigh_version_ = neigh_version;
    if (++epoch_ == 0) {  // wrapped: entries of epoch 0 must not look current
      for (Hop& h : hops_) h.epoch = 0;
      epoch_ = 1;
    }
  }

  // A generation no snapshot has, so the first find restarts; entries
  // start at epoch 0, which the cache never holds.
  uint64_t gen_ = UINT64_MAX;
  uint64_t neigh_version_ = 0;
  uint32_t epoch_ = 1;
  Hop hops_[kSlots] = {};
};

}  // namespace fulcrum
