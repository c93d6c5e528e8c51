// SPDX-License-Identifier: Apache-2.0
//
// SYN cookies: SipHash against the reference vectors, the round trip of
// every option combination, and the rejection of forged, misplaced and
// stale cookies.
#include <arpa/inet.h>

#include <gtest/gtest.h>

#include "ipvs/syncookie.hpp"

namespace fulcrum::test {
namespace {

// The key 00 01 .. 0f of the SipHash paper, as two little-endian words.
constexpr CookieKey kPaperKey{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
constexpr CookieKey kKey{0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL};
const CookieFlow kFlow{inet_addr("198.51.100.7"), inet_addr("10.0.0.100"), htons(40000), htons(80), 0x12345678};
constexpr uint64_t kNow = 10 * kCookieSlotMs + 5'000;

TEST(SipHash, MatchesTheReferenceVectors) {
  uint8_t msg[64];
  for (int i = 0; i < 64; i++) msg[i] = uint8_t(i);
  EXPECT_EQ(siphash24(kPaperKey, msg, 0), 0x726fdb47dd0e0e31ULL);
  EXPECT_EQ(siphash24(kPaperKey, msg, 8), 0x93f5f5799a932462ULL);
  EXPECT_EQ(siphash24(kPaperKey, msg, 15), 0xa129ca6149be45e5ULL);
  EXPECT_EQ(siphash24(kPaperKey, msg, 63), 0x958a324ceb064572ULL);
}

TEST(SynCookie, EveryOptionCombinationRoundTrips) {
  for (uint16_t mss : kCookieMss)
    for (uint8_t ws = 0; ws <= kNoWscale; ws++)
      for (bool sack : {false, true})
        for (bool ts : {false, true}) {
          SynOptions in{mss, ws, sack, ts}, out;
          uint32_t c = cookie_make(kKey, kFlow, in, kNow);
          ASSERT_TRUE(cookie_check(kKey, kFlow, c, kNow, out)) << mss << " " << int(ws);
          EXPECT_EQ(out, in);
        }
}

TEST(SynCookie, TheMssIsRoundedDownToATableEntry) {
  SynOptions out;
  auto via_cookie = [&](uint16_t mss) {
    EXPECT_TRUE(cookie_check(kKey, kFlow, cookie_make(kKey, kFlow, SynOptions{mss}, kNow), kNow, out));
    return out.mss;
  };
  EXPECT_EQ(via_cookie(1460), 1460);
  EXPECT_EQ(via_cookie(1459), 1452);
  EXPECT_EQ(via_cookie(1000), 536);
  EXPECT_EQ(via_cookie(9000), 1460);
  EXPECT_EQ(via_cookie(100), 216);  // below the table: its smallest entry
}

TEST(SynCookie, ForgedCookiesAreRejected) {
  SynOptions opts{1460, 7, true, true}, out;
  uint32_t c = cookie_make(kKey, kFlow, opts, kNow);
  for (int bit = 0; bit < 32; bit++)
    EXPECT_FALSE(cookie_check(kKey, kFlow, c ^ (1u << bit), kNow, out)) << "bit " << bit;
  // Nor for another flow, another ISN, or under another key.
  CookieFlow other = kFlow;
  other.sport = htons(40001);
  EXPECT_FALSE(cookie_check(kKey, other, c, kNow, out));
  other = kFlow;
  other.client_isn++;
  EXPECT_FALSE(cookie_check(kKey, other, c, kNow, out));
  EXPECT_FALSE(cookie_check(CookieKey{kKey.k0 + 1, kKey.k1}, kFlow, c, kNow, out));
  // Random guesses: 22 MAC bits make a hit about 1 in 4 million.
  int accepted = 0;
  for (uint32_t guess = 0; guess < 100'000; guess++) accepted += cookie_check(kKey, kFlow, guess * 2654435761u, kNow, out);
  EXPECT_EQ(accepted, 0);
}

TEST(SynCookie, ACookieLivesItsSlotAndTheNextThenExpires) {
  SynOptions out;
  uint64_t made = 10 * kCookieSlotMs + 63'000;  // late in slot 10
  uint32_t c = cookie_make(kKey, kFlow, SynOptions{}, made);
  EXPECT_TRUE(cookie_check(kKey, kFlow, c, made, out));
  EXPECT_TRUE(cookie_check(kKey, kFlow, c, 11 * kCookieSlotMs + 60'000, out));
  EXPECT_FALSE(cookie_check(kKey, kFlow, c, 12 * kCookieSlotMs, out)) << "two slots on";
  EXPECT_FALSE(cookie_check(kKey, kFlow, c, 13 * kCookieSlotMs, out)) << "same parity, three slots on";
  EXPECT_FALSE(cookie_check(kKey, kFlow, c, 9 * kCookieSlotMs, out)) << "from the future";
}

// The cookie as syncookie.hpp lays it out, its MAC by the byte-wise
// SipHash the reference vectors check: what cookie_make_n must give.
uint32_t reference_cookie(const CookieFlow& f, const SynOptions& o, uint64_t now_ms) {
  uint64_t slot = now_ms / kCookieSlotMs;
  uint32_t mss_index = 0;
  for (uint32_t k = 0; k < kCookieMss.size(); k++)
    if (kCookieMss[k] <= o.mss) mss_index = k;
  uint32_t bits = uint32_t(o.timestamps) << 8 | uint32_t(o.sack) << 7 | mss_index << 4 | o.wscale;
  uint64_t words[3] = {uint64_t(uint32_t(slot)) | uint64_t(bits) << 32, uint64_t(f.saddr) | uint64_t(f.daddr) << 32,
                       uint64_t(f.sport) | uint64_t(f.dport) << 16 | uint64_t(f.client_isn) << 32};
  uint8_t msg[24];
  for (int b = 0; b < 24; b++) msg[b] = uint8_t(words[b / 8] >> (8 * (b % 8)));
  uint32_t mac = uint32_t(siphash24(kKey, msg, sizeof(msg))) & ((1u << 22) - 1);
  return mac << 10 | bits << 1 | uint32_t(slot & 1);
}

TEST(SynCookie, ABatchMakesEachFlowsOwnCookie) {
  // More than two batches' worth, each flow and its options different.
  constexpr size_t n = 2 * kCookieBatch + 6;
  CookieFlow flows[n];
  SynOptions opts[n];
  for (size_t i = 0; i < n; i++) {
    flows[i] = CookieFlow{kFlow.saddr + uint32_t(i << 24), kFlow.daddr, htons(uint16_t(1024 + 7 * i)), kFlow.dport,
                          uint32_t(0x9e3779b9u * i)};
    opts[i] = SynOptions{kCookieMss[i % kCookieMss.size()], uint8_t(i % 16), i % 3 == 0, i % 5 != 0};
  }
  uint32_t cookies[n];
  cookie_make_n(kKey, flows, opts, n, kNow, cookies);
  for (size_t i = 0; i < n; i++) {
    EXPECT_EQ(cookies[i], reference_cookie(flows[i], opts[i], kNow)) << i;
    SynOptions back;
    EXPECT_TRUE(cookie_check(kKey, flows[i], cookies[i], kNow, back)) << i;
    EXPECT_EQ(back, opts[i]) << i;
  }
  EXPECT_EQ(cookie_make(kKey, kFlow, SynOptions{1460, 7, true, true}, kNow), reference_cookie(kFlow, SynOptions{1460, 7, true, true}, kNow));
}

}  // namespace
}  // namespace fulcrum::test
