// SPDX-License-Identifier: Apache-2.0
#include "frame_checksums.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "packet_builder.hpp"

namespace fulcrum::test {
namespace {

constexpr size_t kEth = 14;

// The IPv4 header length, or 0 when the frame has no whole IPv4 header.
size_t ip_header_len(const uint8_t* f, size_t len) {
  if (len < kEth + 20 || f[12] != 0x08 || f[13] != 0x00 || (f[kEth] >> 4) != 4) return 0;
  size_t ihl = size_t(f[kEth] & 0x0f) * 4;
  return ihl >= 20 && kEth + ihl <= len ? ihl : 0;
}

void store16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}

}  // namespace

bool fix_ip_checksum(uint8_t* f, size_t len) {
  size_t ihl = ip_header_len(f, len);
  if (ihl == 0) return false;
  store16(f + kEth + 10, 0);
  store16(f + kEth + 10, inet_checksum(f + kEth, ihl));
  return true;
}

bool fix_l4_checksum(uint8_t* f, size_t len) {
  size_t ihl = ip_header_len(f, len);
  if (ihl == 0) return false;
  const uint8_t* ip = f + kEth;
  size_t total = size_t(ip[2]) << 8 | ip[3];
  size_t l4_len = std::min(total > ihl ? total - ihl : 0, len - kEth - ihl);
  uint8_t* l4 = f + kEth + ihl;
  uint8_t proto = ip[9];
  size_t field = proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : proto == IPPROTO_ICMP ? 2 : 0;
  if (field == 0 || l4_len < field + 2) return false;
  store16(l4 + field, 0);
  uint32_t initial = 0;
  if (proto != IPPROTO_ICMP) {
    uint32_t src, dst;
    std::memcpy(&src, ip + 12, 4);
    std::memcpy(&dst, ip + 16, 4);
    initial = pseudo_sum(src, dst, proto, uint16_t(l4_len));
  }
  uint16_t c = inet_checksum(l4, l4_len, initial);
  store16(l4 + field, c == 0 && proto == IPPROTO_UDP ? 0xffff : c);
  return true;
}

}  // namespace fulcrum::test
