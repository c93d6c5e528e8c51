// SPDX-License-Identifier: Apache-2.0
#include "ipvs/syncookie.hpp"

#include <cstring>

#include <rte_byteorder.h>

namespace fulcrum {
namespace {

constexpr uint32_t kMacBits = 22;
constexpr uint32_t kOptBits = 9;  // ts, sack, mss index (3), wscale (4); the parity below them

uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

// SipHash-2-4's state over a key; the message goes in as 64-bit words.
class Sip24 {
 public:
  explicit Sip24(const CookieKey& k)
      : v0_(0x736f6d6570736575ULL ^ k.k0), v1_(0x646f72616e646f6dULL ^ k.k1),
        v2_(0x6c7967656e657261ULL ^ k.k0), v3_(0x7465646279746573ULL ^ k.k1) {}

  void word(uint64_t m) {
    v3_ ^= m;
    round(), round();
    v0_ ^= m;
  }

  // last: the message's trailing bytes (fewer than 8) with its length in
  // the top byte.
  uint64_t finish(uint64_t last) {
    word(last);
    v2_ ^= 0xff;
    round(), round(), round(), round();
    return v0_ ^ v1_ ^ v2_ ^ v3_;
  }

 private:
  void round() {
    v0_ += v1_, v1_ = rotl(v1_, 13), v1_ ^= v0_, v0_ = rotl(v0_, 32);
    v2_ += v3_, v3_ = rotl(v3_, 16), v3_ ^= v2_;
    v0_ += v3_, v3_ = rotl(v3_, 21), v3_ ^= v0_;
    v2_ += v1_, v1_ = rotl(v1_, 17), v1_ ^= v2_, v2_ = rotl(v2_, 32);
  }

  uint64_t v0_, v1_, v2_, v3_;
};

uint8_t mss_index(uint16_t mss) {
  uint8_t i = 0;
  for (uint8_t k = 0; k < kCookieMss.size(); k++)
    if (kCookieMss[k] <= mss) i = k;
  return i;
}

// The 9 option bits: ts, sack, mss index (3), wscale (4).
uint32_t encode_opts(const SynOptions& o) {
  uint32_t ws = o.wscale > 14 ? kNoWscale : o.wscale;
  return uint32_t(o.timestamps) << 8 | uint32_t(o.sack) << 7 | uint32_t(mss_index(o.mss)) << 4 | ws;
}

SynOptions decode_opts(uint32_t bits) {
  return SynOptions{kCookieMss[(bits >> 4) & 7], uint8_t(bits & 0xf), ((bits >> 7) & 1) != 0, ((bits >> 8) & 1) != 0};
}

// The MAC's message is three words built in registers, not bytes in a
// buffer: 8-byte loads of a buffer just written in 2- and 4-byte pieces
// stall on store forwarding, and a 24-byte message is one compression
// fewer than the 32 the fields would take laid out one by one. The slot is
// truncated to 32 bits (it wraps after 8,700 years).
struct MacMessage {
  uint64_t w0, w1, w2;
};

MacMessage mac_message(const CookieFlow& f, uint64_t slot, uint32_t opt_bits) {
  return MacMessage{uint64_t(uint32_t(slot)) | uint64_t(opt_bits) << 32, uint64_t(f.saddr) | uint64_t(f.daddr) << 32,
                    uint64_t(f.sport) | uint64_t(f.dport) << 16 | uint64_t(f.client_isn) << 32};
}

// Inlined into each caller: left a call (it has two), make_batch's loop
// is not vectorized.
[[gnu::always_inline]] inline uint64_t sip_of(const CookieKey& key, uint64_t w0, uint64_t w1, uint64_t w2) {
  Sip24 sip(key);
  sip.word(w0);
  sip.word(w1);
  sip.word(w2);
  return sip.finish(uint64_t(24) << 56);
}

uint32_t mac_bits(uint64_t sip) { return uint32_t(sip) & ((1u << kMacBits) - 1); }

uint32_t mac(const CookieKey& key, const CookieFlow& f, uint64_t slot, uint32_t opt_bits) {
  MacMessage m = mac_message(f, slot, opt_bits);
  return mac_bits(sip_of(key, m.w0, m.w1, m.w2));
}

uint32_t cookie_of(uint32_t mac, uint32_t opt_bits, uint64_t slot) {
  return mac << (32 - kMacBits) | opt_bits << 1 | uint32_t(slot & 1);
}

}  // namespace

uint64_t siphash24(const CookieKey& key, const uint8_t* data, size_t n) {
  Sip24 sip(key);
  size_t whole = n & ~size_t(7);
  for (size_t i = 0; i < whole; i += 8) {
    uint64_t m;
    std::memcpy(&m, data + i, 8);
    sip.word(rte_le_to_cpu_64(m));
  }
  uint64_t last = uint64_t(n & 0xff) << 56;
  for (size_t i = 0; i < (n & 7); i++) last |= uint64_t(data[whole + i]) << (8 * i);
  return sip.finish(last);
}

uint32_t cookie_make(const CookieKey& key, const CookieFlow& f, const SynOptions& opts, uint64_t now_ms) {
  uint32_t cookie;
  cookie_make_n(key, &f, &opts, 1, now_ms, &cookie);
  return cookie;
}

namespace {

// cookie_make_n for at most kCookieBatch flows. Compiled for the vector
// units this CPU may have, picked when the process loads: the dataplane
// is built for corei7 (DPDK's flags), whose SSE has two 64-bit lanes and
// no rotate; AVX-512 has eight and the rotate.
[[gnu::target_clones("avx512f", "avx2", "default")]] void make_batch(const CookieKey& k, const CookieFlow* f, const SynOptions* opts, size_t n, uint64_t slot,
                uint32_t* out) {
  uint64_t w0[kCookieBatch], w1[kCookieBatch], w2[kCookieBatch];
  uint32_t bits[kCookieBatch], macs[kCookieBatch];
  for (size_t i = 0; i < n; i++) {
    bits[i] = encode_opts(opts[i]);
    MacMessage m = mac_message(f[i], slot, bits[i]);
    w0[i] = m.w0, w1[i] = m.w1, w2[i] = m.w2;
  }
  // No iteration depends on another: the compiler runs them in vector lanes.
  for (size_t i = 0; i < n; i++) macs[i] = mac_bits(sip_of(k, w0[i], w1[i], w2[i]));
  for (size_t i = 0; i < n; i++) out[i] = cookie_of(macs[i], bits[i], slot);
}

}  // namespace

void cookie_make_n(const CookieKey& key, const CookieFlow* f, const SynOptions* opts, size_t n, uint64_t now_ms,
                   uint32_t* out) {
  const CookieKey k = key;  // a copy: stores to the batch's arrays cannot alias it
  uint64_t slot = now_ms / kCookieSlotMs;
  for (size_t at = 0; at < n; at += kCookieBatch) {
    size_t m = n - at < kCookieBatch ? n - at : kCookieBatch;
    make_batch(k, f + at, opts + at, m, slot, out + at);
  }
}

bool cookie_check(const CookieKey& key, const CookieFlow& f, uint32_t cookie, uint64_t now_ms, SynOptions& opts) {
  uint64_t now_slot = now_ms / kCookieSlotMs;
  // The parity says which of the two live slots made it.
  uint64_t slot = (now_slot & 1) == (cookie & 1) ? now_slot : now_slot - 1;
  if (slot > now_slot) return false;  // slot 0 has no predecessor
  uint32_t bits = (cookie >> 1) & ((1u << kOptBits) - 1);
  if ((cookie >> (32 - kMacBits)) != mac(key, f, slot, bits)) return false;
  opts = decode_opts(bits);
  return true;
}

}  // namespace fulcrum
