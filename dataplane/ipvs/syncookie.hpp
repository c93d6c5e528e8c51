// SPDX-License-Identifier: Apache-2.0
//
// SYN cookies for the SYN proxy: the balancer answers a client's SYN with
// a SYN-ACK whose sequence number encodes everything it needs to know
// later, so a SYN allocates nothing. The client's ACK acknowledges
// cookie + 1; the cookie is checked and decoded then.
//
// The 32-bit cookie:
//
//   31                       10   9   8  7    5 4      1  0
//   [ MAC, 22 bits            ][ts][sk][ mss  ][ wscale ][ p ]
//
//   p       parity of the time slot the cookie was made in (slots of
//           kCookieSlotMs); a cookie is valid in its slot and the next
//   wscale  the client's window scale, 0..14, 15 = none offered
//   mss     index into kCookieMss, the largest entry <= the client's MSS
//   sk, ts  SACK permitted, timestamps offered
//   MAC     SipHash-2-4 under a secret key of <slot (low 32 bits), the 9
//           option bits, saddr, daddr, sport, dport, client ISN>, truncated
//
// A keyed cryptographic MAC, not a CRC: a CRC is affine in its input, so
// one observed cookie would let an attacker compute valid ones for other
// tuples. The key is process-wide and fixed at start; the slot makes a
// cookie expire: at most 2 x kCookieSlotMs after it was made, at least one
// slot. Every worker computes the same cookies, so the ACK may reach
// another worker than the SYN did.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace fulcrum {

inline constexpr uint32_t kCookieSlotMs = 64'000;
inline constexpr std::array<uint16_t, 8> kCookieMss = {216, 536, 1200, 1360, 1400, 1440, 1452, 1460};
inline constexpr uint8_t kNoWscale = 15;

// What the client's SYN offered.
struct SynOptions {
  uint16_t mss = 536;  // RFC 9293 default when absent
  uint8_t wscale = kNoWscale;
  bool sack = false;
  bool timestamps = false;
  bool operator==(const SynOptions&) const = default;
};

// A flow as the client sent it; addresses and ports in network order.
struct CookieFlow {
  uint32_t saddr, daddr;
  uint16_t sport, dport;
  uint32_t client_isn;  // host order
};

struct CookieKey {
  uint64_t k0, k1;
};

// SipHash-2-4 of n bytes (little-endian words), for cookies.
uint64_t siphash24(const CookieKey& key, const uint8_t* data, size_t n);

// The cookie for f made at time now_ms. opts is rounded to what the cookie
// can carry (the MSS down to a table entry).
uint32_t cookie_make(const CookieKey& key, const CookieFlow& f, const SynOptions& opts, uint64_t now_ms);

// The cookies cookie_make_n makes side by side: a burst's worth.
inline constexpr size_t kCookieBatch = 32;

// cookie_make for n flows at once: the same cookies. One SipHash is 12
// rounds of adds and rotates, each waiting on the one before; n of them
// are independent, and the compiler runs them side by side in vector lanes
// (4 with AVX2, 8 with AVX-512): a SYN flood's burst costs a fraction of
// its MACs one after the other.
void cookie_make_n(const CookieKey& key, const CookieFlow* f, const SynOptions* opts, size_t n, uint64_t now_ms,
                   uint32_t* out);

// Checks cookie for f at time now_ms: true, with the options it encodes,
// when it was made for this flow in the current or the previous slot.
bool cookie_check(const CookieKey& key, const CookieFlow& f, uint32_t cookie, uint64_t now_ms, SynOptions& opts);

}  // namespace fulcrum
