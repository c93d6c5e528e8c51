// SPDX-License-Identifier: Apache-2.0
//
// The 256-bucket table of dh and sh, built on the control thread.
//
// Buckets are filled in order by cycling through the dests in list order,
// each dest taking `weight` consecutive buckets per cycle and weight-0
// dests none, until all 256 are filled. Weights are first divided by their
// gcd (so 100,100 behaves like 1,1), and if they still add up to more than
// 256 they are scaled down proportionally (each keeping at least one
// bucket) so that every dest fits in the first cycle. With weights 1,2,1
// the buckets read A B B C A B B C ...
//
// A key (an address) selects bucket hash8(key): the top 8 bits of the
// multiplicative hash of the address in host order.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "sched/scheduler.hpp"

namespace fulcrum::sched {

class BucketTable {
 public:
  static constexpr uint32_t kBuckets = 256;

  explicit BucketTable(const std::vector<SchedDest>& dests);

  // The dest index of bucket b, -1 when no dest has a weight.
  int32_t bucket(uint32_t b) const { return buckets_[b]; }
  // The dest for this key (an address, network order), before any
  // usability check.
  int32_t lookup(uint32_t key) const;

 private:
  std::array<int32_t, kBuckets> buckets_;
};

// dh and sh: one class, told which address to hash.
enum class HashKey { kDestination, kSource };

class HashScheduler final : public Scheduler {
 public:
  HashScheduler(const std::vector<SchedDest>& dests, HashKey key) : table_(dests), key_(key) {}

  bool needs_load() const override { return true; }
  // The bucket's dest, or -1 when it cannot take the connection: no
  // fallback to another dest, as in LVS, so a key never moves silently.
  int32_t pick(const SchedInput& in, SchedState* state) const override;

 private:
  BucketTable table_;
  HashKey key_;
};

}  // namespace fulcrum::sched
