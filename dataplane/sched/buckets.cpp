// SPDX-License-Identifier: Apache-2.0
//
// Building and using the dh/sh bucket table; see buckets.hpp for the
// filling rule and why weights are reduced first.
#include "sched/buckets.hpp"

#include <algorithm>
#include <numeric>

#include "sched/common.hpp"

namespace fulcrum::sched {
namespace {

// Weights divided by their gcd, then scaled so that they add up to at most
// kBuckets where possible; a nonzero weight stays at least 1.
std::vector<uint64_t> bucket_weights(const std::vector<SchedDest>& dests) {
  uint64_t gcd = 0, sum = 0;
  for (const SchedDest& d : dests) gcd = std::gcd(gcd, uint64_t(d.weight));
  std::vector<uint64_t> w;
  for (const SchedDest& d : dests) {
    w.push_back(gcd ? d.weight / gcd : 0);
    sum += w.back();
  }
  if (sum <= BucketTable::kBuckets) return w;
  for (uint64_t& x : w) {
    if (x) x = std::max<uint64_t>(1, x * BucketTable::kBuckets / sum);
  }
  return w;
}

}  // namespace

BucketTable::BucketTable(const std::vector<SchedDest>& dests) {
  buckets_.fill(-1);
  std::vector<uint64_t> w = bucket_weights(dests);
  if (std::all_of(w.begin(), w.end(), [](uint64_t x) { return x == 0; })) return;
  uint32_t b = 0;
  while (b < kBuckets) {
    for (uint32_t i = 0; i < w.size() && b < kBuckets; ++i) {
      for (uint64_t k = 0; k < w[i] && b < kBuckets; ++k) buckets_[b++] = int32_t(i);
    }
  }
}

int32_t BucketTable::lookup(uint32_t key) const { return buckets_[hash8(key)]; }

int32_t HashScheduler::pick(const SchedInput& in, SchedState*) const {
  int32_t d = table_.lookup(key_ == HashKey::kSource ? in.caddr : in.vaddr);
  if (d < 0 || !usable_at(in, uint32_t(d))) return -1;
  // dh/sh's own overload test: twice as many active connections as weight.
  if (in.load[d].active > uint64_t(in.dests[d].weight) * 2) return -1;
  return d;
}

}  // namespace fulcrum::sched
