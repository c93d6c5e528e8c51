// SPDX-License-Identifier: Apache-2.0
//
// Frames for the benchmarks, built byte by byte with their own checksum
// code (nothing from the dataplane under measurement): 60-byte Ethernet
// frames carrying IPv4 TCP segments.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace fulcrum::bench {

inline constexpr size_t kFrameLen = 60;  // 64 bytes on the wire with the FCS

inline uint32_t csum_add(uint32_t sum, const uint8_t* p, size_t len) {
  for (size_t i = 0; i + 1 < len; i += 2) sum += uint32_t(p[i]) << 8 | p[i + 1];
  if (len & 1) sum += uint32_t(p[len - 1]) << 8;
  return sum;
}

inline uint16_t csum_fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}

inline uint16_t inet_csum(const uint8_t* p, size_t len) { return csum_fold(csum_add(0, p, len)); }

inline void put16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v >> 8), p[1] = uint8_t(v); }
inline void put32(uint8_t* p, uint32_t v) { put16(p, uint16_t(v >> 16)), put16(p + 2, uint16_t(v)); }
inline void put32be(uint8_t* p, uint32_t be) { std::memcpy(p, &be, 4); }

using Frame = std::vector<uint8_t>;

struct TcpSeg {
  const uint8_t* src_mac;
  uint32_t saddr, daddr;  // network order
  uint16_t sport, dport;  // host order
  uint8_t flags;
  uint32_t seq, ack;
  uint32_t payload;       // bytes, 0 or kDataLen
  uint16_t ip_id;
};

inline constexpr uint8_t kFin = 0x01, kSyn = 0x02, kPsh = 0x08, kAck = 0x10;

// A TCP segment with correct IP and TCP checksums; a segment without
// payload is 54 bytes and gets Ethernet's zero padding up to 60, as on a
// wire (the parser trims it).
inline Frame tcp_frame(const TcpSeg& s, const uint8_t* dst_mac) {
  Frame f(kFrameLen, 0);
  std::memcpy(&f[0], dst_mac, 6);
  std::memcpy(&f[6], s.src_mac, 6);
  put16(&f[12], 0x0800);
  uint8_t* ip = &f[14];
  uint16_t ip_len = uint16_t(20 + 20 + s.payload);
  ip[0] = 0x45;
  put16(ip + 2, ip_len);
  put16(ip + 4, s.ip_id);
  put16(ip + 6, 0x4000);  // DF, as TCP stacks send
  ip[8] = 64;
  ip[9] = IPPROTO_TCP;
  put32be(ip + 12, s.saddr);
  put32be(ip + 16, s.daddr);
  put16(ip + 10, inet_csum(ip, 20));
  uint8_t* tcp = ip + 20;
  put16(tcp + 0, s.sport);
  put16(tcp + 2, s.dport);
  put32(tcp + 4, s.seq);
  put32(tcp + 8, s.ack);
  tcp[12] = 5 << 4;  // 20-byte header
  tcp[13] = s.flags;
  put16(tcp + 14, 65535);
  for (uint32_t k = 0; k < s.payload; k++) tcp[20 + k] = uint8_t('a' + (s.ip_id + k) % 26);
  uint8_t pseudo[12];
  put32be(pseudo, s.saddr);
  put32be(pseudo + 4, s.daddr);
  pseudo[8] = 0, pseudo[9] = IPPROTO_TCP;
  put16(pseudo + 10, uint16_t(20 + s.payload));
  put16(tcp + 16, csum_fold(csum_add(csum_add(0, pseudo, 12), tcp, 20 + s.payload)));
  return f;
}

}  // namespace fulcrum::bench
