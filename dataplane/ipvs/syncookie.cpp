// SPDX-License-Identifier: Apache-2.0
#include "ipvs/syncookie.hpp"

#include <cstring>

namespace fulcrum {
namespace {

constexpr uint32_t kMacBits = 22;
constexpr uint32_t kOptBits = 9;  // ts, sack, mss index (3), wscale (4); the parity below them

uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

void sip_round(uint64_t& v0, uint64_t& v1, uint64_t& v2, uint64_t& v3) {
  v0 += v1, v1 = rotl(v1, 13), v1 ^= v0, v0 = rotl(v0, 32);
  v2 += v3, v3 = rotl(v3, 16), v3 ^= v2;
  v0 += v3, v3 = rotl(v3, 21), v3 ^= v0;
  v2 += v1, v1 = rotl(v1, 17), v1 ^= v2, v2 = rotl(v2, 32);
}

uint64_t load_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

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

uint32_t mac(const CookieKey& key, const CookieFlow& f, uint64_t slot, uint32_t opt_bits) {
  uint8_t msg[32] = {};
  std::memcpy(msg, &slot, 8);
  std::memcpy(msg + 8, &f.saddr, 4);
  std::memcpy(msg + 12, &f.daddr, 4);
  std::memcpy(msg + 16, &f.sport, 2);
  std::memcpy(msg + 18, &f.dport, 2);
  std::memcpy(msg + 20, &f.client_isn, 4);
  std::memcpy(msg + 24, &opt_bits, 4);
  return uint32_t(siphash24(key, msg, sizeof(msg))) & ((1u << kMacBits) - 1);
}

}  // namespace

uint64_t siphash24(const CookieKey& key, const uint8_t* data, size_t n) {
  uint64_t v0 = 0x736f6d6570736575ULL ^ key.k0, v1 = 0x646f72616e646f6dULL ^ key.k1;
  uint64_t v2 = 0x6c7967656e657261ULL ^ key.k0, v3 = 0x7465646279746573ULL ^ key.k1;
  size_t whole = n & ~size_t(7);
  for (size_t i = 0; i < whole; i += 8) {
    uint64_t m = load_le64(data + i);
    v3 ^= m;
    sip_round(v0, v1, v2, v3);
    sip_round(v0, v1, v2, v3);
    v0 ^= m;
  }
  uint64_t last = uint64_t(n & 0xff) << 56;
  for (size_t i = 0; i < (n & 7); i++) last |= uint64_t(data[whole + i]) << (8 * i);
  v3 ^= last;
  sip_round(v0, v1, v2, v3);
  sip_round(v0, v1, v2, v3);
  v0 ^= last;
  v2 ^= 0xff;
  for (int i = 0; i < 4; i++) sip_round(v0, v1, v2, v3);
  return v0 ^ v1 ^ v2 ^ v3;
}

uint32_t cookie_make(const CookieKey& key, const CookieFlow& f, const SynOptions& opts, uint64_t now_ms) {
  uint64_t slot = now_ms / kCookieSlotMs;
  uint32_t bits = encode_opts(opts);
  return mac(key, f, slot, bits) << (32 - kMacBits) | bits << 1 | uint32_t(slot & 1);
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
