// SPDX-License-Identifier: Apache-2.0
//
// What several schedulers share, so no scheduler repeats another's code:
//  - usable(): may this dest take a new connection at all,
//  - overhead() and Least: "fewest connections per unit of weight",
//    compared exactly by cross multiplication (no division, no rounding),
//    and with them the wlc and sed selections (lblc/lblcr and nq reuse them),
//  - the LVS locality overload test of lblc/lblcr,
//  - CursorState: the per-worker cursor of rr/wrr and its staggered start,
//  - hashing: the 8-bit multiplicative hash of dh/sh/lblc and a 64-bit
//    mixer for Maglev and for twos' random draws.
// Everything is inline and allocation-free: it runs inside pick().
#pragma once

#include <cstdint>

#include <rte_byteorder.h>

#include "sched/scheduler.hpp"

namespace fulcrum::sched {

// Weight 0 quiesces a dest, the health check inhibits it, the caller's
// upper threshold marks it overloaded: any of these keeps new connections away.
inline bool usable(const SchedDest& d) { return d.weight > 0 && d.available && !d.overloaded; }

// Index i of in.dests is usable; also guards against a dest list shorter
// than the one the scheduler's tables were built for.
inline bool usable_at(const SchedInput& in, uint32_t i) {
  return i < in.ndests && usable(in.dests[i]);
}

// LVS's connection overhead: an active connection costs like 256 idle ones,
// which is roughly how much more a busy connection loads a server.
inline uint64_t overhead(const DestLoad& l) { return uint64_t(l.active) * 256 + l.inactive; }

// a/wa < b/wb, exactly. 128-bit products: overhead reaches 2^40 and a
// weight 2^32, so 64 bits could overflow.
inline bool ratio_less(uint64_t a, uint64_t wa, uint64_t b, uint64_t wb) {
  return static_cast<unsigned __int128>(a) * wb < static_cast<unsigned __int128>(b) * wa;
}

// Running minimum of cost/weight over offered dests; the first offered
// wins ties, as in LVS (a later dest must be strictly better).
struct Least {
  int32_t best = -1;
  uint64_t cost = 0;
  uint64_t weight = 1;

  void offer(uint32_t i, uint64_t c, uint64_t w) {
    if (best >= 0 && !ratio_less(c, w, cost, weight)) return;
    best = int32_t(i);
    cost = c;
    weight = w;
  }
};

// wlc over every usable dest: least overhead per unit of weight.
inline int32_t pick_wlc(const SchedInput& in) {
  Least least;
  for (uint32_t i = 0; i < in.ndests; ++i) {
    if (usable(in.dests[i])) least.offer(i, overhead(in.load[i]), in.dests[i].weight);
  }
  return least.best;
}

// sed over every usable dest: least (active + 1) per unit of weight (nq
// falls back to it).
inline int32_t pick_sed(const SchedInput& in) {
  Least least;
  for (uint32_t i = 0; i < in.ndests; ++i) {
    if (usable(in.dests[i])) least.offer(i, uint64_t(in.load[i].active) + 1, in.dests[i].weight);
  }
  return least.best;
}

// The lblc/lblcr overload test: dest n has more active connections than
// its weight while some usable dest m with consider(m) is below half of
// its own. Only then is leaving n (and losing locality) worth it.
template <class Consider>
bool locality_overloaded(const SchedInput& in, uint32_t n, Consider consider) {
  if (in.load[n].active <= in.dests[n].weight) return false;
  for (uint32_t m = 0; m < in.ndests; ++m) {
    if (m == n || !usable(in.dests[m]) || !consider(m)) continue;
    if (uint64_t(in.load[m].active) * 2 < in.dests[m].weight) return true;
  }
  return false;
}

// Per-worker cursor of rr/wrr: the position chosen last.
struct CursorState : SchedState {
  uint32_t last;
  explicit CursorState(uint32_t l) : last(l) {}
};

// Worker w of W starts at w * len / W, so the workers' first picks are
// spread over the cycle instead of all landing on its first dest. The
// cursor holds the position before it, since pick() advances first.
inline uint32_t staggered_last(uint32_t worker, uint32_t workers, uint32_t len) {
  if (len == 0) return 0;
  uint32_t start = workers ? uint32_t(uint64_t(worker % workers) * len / workers) : 0;
  return (start + len - 1) % len;
}

// Multiplicative (Fibonacci) hash to 8 bits: the golden-ratio multiplier
// spreads nearby addresses, and the top byte of the product is its
// best-mixed part. key is in host order so 10.0.0.1 and 10.0.0.2 differ
// in the low bits the multiplication propagates upwards.
inline uint8_t hash8(uint32_t key_net) {
  return uint8_t((rte_be_to_cpu_32(key_net) * 2654435761u) >> 24);
}

// A 64-bit finaliser (the splitmix64 output function): every input bit
// affects every output bit, so mix64(x ^ seed) with different seeds gives
// unrelated hashes of the same key.
inline uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// A uniform integer in [0, bound) from 64 random bits, without division.
inline uint64_t below(uint64_t random, uint64_t bound) {
  return uint64_t((static_cast<unsigned __int128>(random) * bound) >> 64);
}

}  // namespace fulcrum::sched
