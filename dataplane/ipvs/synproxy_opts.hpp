// SPDX-License-Identifier: Apache-2.0
//
// The TCP options the SYN proxy reads from clients and dests and writes in
// its own segments.
#pragma once

#include <cstdint>

#include <rte_byteorder.h>
#include <rte_tcp.h>

#include "ipvs/syncookie.hpp"
#include "net/load.hpp"
#include "xmit/tcp_opts.hpp"

namespace fulcrum {

constexpr uint8_t kTcpOptWscale = 3;
constexpr uint8_t kTcpOptSackPerm = 4;
constexpr uint8_t kTcpOptTimestamp = 8;

struct SeenOptions {
  uint16_t mss = 0;               // 0: absent
  uint8_t wscale = kNoWscale;     // kNoWscale: absent
  bool sack = false;
  bool has_ts = false;
  uint32_t tsval = 0, tsecr = 0;  // host order
};

inline uint32_t be32_at(const uint8_t* p) { return rte_be_to_cpu_32(load32(p)); }

inline SeenOptions seen_options(rte_tcp_hdr* tcp, uint16_t hdr_len) {
  SeenOptions s;
  tcp_for_each_option(tcp, hdr_len, [&](uint8_t kind, uint8_t* v, uint8_t len) {
    if (kind == kTcpOptMss && len == 2) s.mss = uint16_t(v[0] << 8 | v[1]);
    if (kind == kTcpOptWscale && len == 1) s.wscale = v[0] > 14 ? 14 : v[0];
    if (kind == kTcpOptSackPerm && len == 0) s.sack = true;
    if (kind == kTcpOptTimestamp && len == 8) s.has_ts = true, s.tsval = be32_at(v), s.tsecr = be32_at(v + 4);
  });
  return s;
}

// Options in the layout Linux uses: MSS, SACK permitted and timestamps
// (NOP-padded), NOP + window scale. At most 20 bytes, in whole 32-bit
// words as they sit in the packet: tcp_write stores and sums them a word
// at a time. Written byte by byte, they were read back in wider loads that
// waited on store forwarding (part of a SYN flood's cost per answer).
class OptionWriter {
 public:
  void mss(uint16_t v) { put(kTcpOptMss, 4, uint8_t(v >> 8), uint8_t(v)); }
  void sack_ts(bool sack, bool ts, uint32_t tsval, uint32_t tsecr) {
    if (sack && !ts) return put(kTcpOptNop, kTcpOptNop, kTcpOptSackPerm, 2);
    if (!ts) return;
    if (sack) put(kTcpOptSackPerm, 2, kTcpOptTimestamp, 10);
    else put(kTcpOptNop, kTcpOptNop, kTcpOptTimestamp, 10);
    put32(tsval);
    put32(tsecr);
  }
  void wscale(uint8_t v) { put(kTcpOptNop, kTcpOptWscale, 3, v); }
  const uint32_t* words() const { return w_; }
  uint8_t size() const { return uint8_t(n_ * 4); }  // bytes

 private:
  // Four option bytes, in this order in memory.
  void put(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    put32(uint32_t(a) << 24 | uint32_t(b) << 16 | uint32_t(c) << 8 | d);
  }
  void put32(uint32_t v) { w_[n_++] = rte_cpu_to_be_32(v); }
  uint32_t w_[5] = {};
  uint8_t n_ = 0;
};

}  // namespace fulcrum
