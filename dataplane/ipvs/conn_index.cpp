// SPDX-License-Identifier: Apache-2.0
#include "ipvs/conn_index.hpp"

#include <initializer_list>

#include <rte_cycles.h>
#include <rte_malloc.h>

namespace fulcrum {

bool ConnIndex::init(uint32_t entries, int socket) {
  // 8-way buckets with two choices fill to well over 90% before an insert
  // fails; 85% leaves the random walks short. Not a power of two: range()
  // maps a hash onto any count, so the index is not up to twice too big.
  uint64_t n = (uint64_t(entries) * 100 / 85 + kWays - 1) / kWays;
  nbuckets_ = uint32_t(n < 2 ? 2 : n);
  buckets_ = static_cast<Bucket*>(rte_zmalloc_socket("conn_index", bytes(), 64, socket));
  rng_ ^= rte_rdtsc();
  if (rng_ == 0) rng_ = 1;
  return buckets_ != nullptr;
}

ConnIndex::~ConnIndex() { rte_free(buckets_); }

bool ConnIndex::place(uint32_t b, uint32_t sig, uint32_t ref) {
  Bucket& bk = buckets_[b];
  uint32_t free = matches(bk, 0);
  if (free == 0) return false;
  uint32_t i = uint32_t(__builtin_ctz(free));
  bk.sig[i] = sig;
  bk.ref[i] = ref;
  return true;
}

bool ConnIndex::erase(uint64_t h, uint32_t ref) {
  uint32_t sig = sig_of(h);
  for (uint32_t b : {first(h), second(h)}) {
    Bucket& bk = buckets_[b];
    for (uint32_t m = matches(bk, sig); m != 0; m &= m - 1) {
      uint32_t i = uint32_t(__builtin_ctz(m));
      if (bk.ref[i] != ref) continue;
      bk.sig[i] = 0;
      size_--;
      return true;
    }
  }
  return false;
}

}  // namespace fulcrum
