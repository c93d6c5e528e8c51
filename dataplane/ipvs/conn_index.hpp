// SPDX-License-Identifier: Apache-2.0
//
// The connection index: a bucketised cuckoo hash from a 64-bit key hash to
// a 32-bit reference, that stores no keys.
//
// Why not rte_hash: it keeps a copy of every 16-byte key in a key store
// beside its buckets, so a lookup touches a bucket, then the key, then the
// connection, and an entry costs ~64 bytes with its key slot and
// extendable-table share. Every key the index needs is already in the
// connection it points to, so here an entry is 8 bytes (a 32-bit signature
// and the reference) and the key is compared in the connection itself: a
// lookup touches one bucket line and the connection line that the packet
// path reads next anyway.
//
// Layout: buckets of 8 entries in one 64-byte line (signatures, then
// references). A hash names two buckets; an entry lives in one of them, the
// first when it has room. Inserting into two full buckets moves entries to
// their other bucket (cuckoo displacement, a bounded random walk that is
// undone when it fails). The other bucket of an entry that is not the one
// being inserted comes from re-hashing its key, which the caller provides
// from the reference (displacement is rare, and only on insert).
//
// The caller decides what a reference means and what a match is; the index
// never reads through a reference. Single owner thread, no locks; no
// allocation after create.
#pragma once

#include <cstddef>
#include <cstdint>

#include <emmintrin.h>

namespace fulcrum {

class ConnIndex {
 public:
  static constexpr uint32_t kWays = 8;
  static constexpr uint32_t kNone = UINT32_MAX;  // "no reference"

  // Room for `entries` references at a load of at most ~85%. Returns false
  // when the memory cannot be had (socket: NUMA node of the buckets).
  bool init(uint32_t entries, int socket);
  ~ConnIndex();

  // Bytes the buckets take.
  size_t bytes() const { return size_t(nbuckets_) * sizeof(Bucket); }
  uint32_t size() const { return size_; }

  // Where a hash's entry can be, worked out once per lookup.
  struct Probe {
    uint32_t b1, b2, sig;
  };
  Probe probe(uint64_t h) const { return Probe{first(h), second(h), sig_of(h)}; }

  // Starts loading the first bucket (bulk lookups).
  void prefetch(const Probe& p) const { __builtin_prefetch(&buckets_[p.b1]); }

  // The first reference in h's first bucket with h's signature, or kNone:
  // what a bulk lookup prefetches before it matches (kNone: it prefetches
  // the second bucket instead).
  uint32_t candidate(const Probe& p) const {
    uint32_t m = matches(buckets_[p.b1], p.sig);
    return m != 0 ? buckets_[p.b1].ref[__builtin_ctz(m)] : kNone;
  }
  void prefetch_second(const Probe& p) const { __builtin_prefetch(&buckets_[p.b2]); }

  // The reference stored under the probe's hash for which match(ref)
  // holds, or kNone.
  template <class Match>
  uint32_t find(const Probe& p, Match&& match) const;
  template <class Match>
  uint32_t find(uint64_t h, Match&& match) const { return find(probe(h), match); }

  // Adds ref under h unless a reference under h matches (dup(ref) true:
  // returns kExists). rehash(ref) gives the hash a stored reference was
  // inserted with (for displacement).
  enum class Add : uint8_t { kOk, kExists, kFull };
  template <class Match, class Rehash>
  Add insert(uint64_t h, uint32_t ref, Match&& dup, Rehash&& rehash);

  // Removes ref stored under h; false when it is not there.
  bool erase(uint64_t h, uint32_t ref);

  // Calls f(ref) for every reference (no changes meanwhile).
  template <class F>
  void for_each(F&& f) const;

 private:
  struct alignas(64) Bucket {
    uint32_t sig[kWays];  // 0: free slot
    uint32_t ref[kWays];
  };
  static_assert(sizeof(Bucket) == 64);

  static uint32_t sig_of(uint64_t h) {
    // The low halves of both words: mostly independent of the high bits
    // that pick the buckets.
    uint32_t s = (uint32_t(h) << 16) | (uint32_t(h >> 32) & 0xffff);
    return s != 0 ? s : 1;
  }
  static uint32_t range(uint32_t x, uint32_t n) { return uint32_t((uint64_t(x) * n) >> 32); }
  uint32_t first(uint64_t h) const { return range(uint32_t(h), nbuckets_); }
  uint32_t second(uint64_t h) const {
    uint32_t b = range(uint32_t(h >> 32), nbuckets_);
    return b != first(h) ? b : (b + 1 == nbuckets_ ? 0 : b + 1);
  }
  uint32_t other(uint64_t h, uint32_t b) const { return b == first(h) ? second(h) : first(h); }
  // Slots of bucket b whose signature is sig, as a bit mask.
  static uint32_t matches(const Bucket& b, uint32_t sig) {
    __m128i s = _mm_set1_epi32(int(sig));
    __m128i lo = _mm_cmpeq_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(b.sig)), s);
    __m128i hi = _mm_cmpeq_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(b.sig + 4)), s);
    return uint32_t(_mm_movemask_ps(_mm_castsi128_ps(lo)) | _mm_movemask_ps(_mm_castsi128_ps(hi)) << 4);
  }
  template <class Match>
  uint32_t find_in(const Bucket& b, uint32_t sig, Match& match) const;
  bool place(uint32_t b, uint32_t sig, uint32_t ref);
  template <class Rehash>
  bool displace(uint32_t b, uint32_t sig, uint32_t ref, Rehash& rehash);

  Bucket* buckets_ = nullptr;
  uint32_t nbuckets_ = 0;
  uint32_t size_ = 0;
  uint64_t rng_ = 0x2545f4914f6cdd1dULL;
};

template <class Match>
uint32_t ConnIndex::find_in(const Bucket& b, uint32_t sig, Match& match) const {
  for (uint32_t m = matches(b, sig); m != 0; m &= m - 1) {
    uint32_t ref = b.ref[__builtin_ctz(m)];
    if (match(ref)) return ref;
  }
  return kNone;
}

template <class Match>
uint32_t ConnIndex::find(const Probe& p, Match&& match) const {
  uint32_t ref = find_in(buckets_[p.b1], p.sig, match);
  return ref != kNone ? ref : find_in(buckets_[p.b2], p.sig, match);
}

template <class Match, class Rehash>
ConnIndex::Add ConnIndex::insert(uint64_t h, uint32_t ref, Match&& dup, Rehash&& rehash) {
  Probe p = probe(h);
  if (find(p, dup) != kNone) return Add::kExists;
  if (place(p.b1, p.sig, ref) || place(p.b2, p.sig, ref) || displace(p.b1, p.sig, ref, rehash)) {
    size_++;
    return Add::kOk;
  }
  return Add::kFull;
}

// A random walk: put the entry in a random slot of bucket b, and carry the
// entry it pushed out to that entry's other bucket, until one has room.
// Every move is recorded so that a walk that gives up leaves the index as it
// was. At the loads init() sizes for, walks are short and rarely needed.
template <class Rehash>
bool ConnIndex::displace(uint32_t b, uint32_t sig, uint32_t ref, Rehash& rehash) {
  constexpr uint32_t kMaxSteps = 128;
  struct Step { uint32_t bucket, slot; };
  Step path[kMaxSteps];
  for (uint32_t n = 0; n < kMaxSteps; n++) {
    rng_ ^= rng_ << 13, rng_ ^= rng_ >> 7, rng_ ^= rng_ << 17;
    uint32_t slot = uint32_t(rng_ % kWays);
    Bucket& bk = buckets_[b];
    uint32_t vsig = bk.sig[slot], vref = bk.ref[slot];
    bk.sig[slot] = sig, bk.ref[slot] = ref;
    path[n] = Step{b, slot};
    b = other(rehash(vref), b);
    sig = vsig, ref = vref;
    if (place(b, sig, ref)) return true;
  }
  // Undo, newest move first: each slot gets back what it held.
  for (uint32_t n = kMaxSteps; n-- > 0;) {
    Bucket& bk = buckets_[path[n].bucket];
    uint32_t s = bk.sig[path[n].slot], r = bk.ref[path[n].slot];
    bk.sig[path[n].slot] = sig, bk.ref[path[n].slot] = ref;
    sig = s, ref = r;
  }
  return false;
}

template <class F>
void ConnIndex::for_each(F&& f) const {
  for (uint32_t b = 0; b < nbuckets_; b++)
    for (uint32_t i = 0; i < kWays; i++)
      if (buckets_[b].sig[i] != 0) f(buckets_[b].ref[i]);
}

}  // namespace fulcrum
