// SPDX-License-Identifier: Apache-2.0
#include "ctrl/snapshot.hpp"

#include <algorithm>

#include <rte_byteorder.h>

namespace fulcrum {
namespace {

bool same_subnet(uint32_t a, uint32_t b, uint8_t prefix) {
  if (prefix == 0) return true;
  uint32_t mask = ~uint32_t(0) << (32 - prefix);
  return ((rte_be_to_cpu_32(a) ^ rte_be_to_cpu_32(b)) & mask) == 0;
}

}  // namespace

const OwnedAddress* Snapshot::find_owned(uint32_t ip) const {
  auto it = std::lower_bound(addresses.begin(), addresses.end(), ip,
                             [](const OwnedAddress& a, uint32_t v) { return a.ip < v; });
  return it != addresses.end() && it->ip == ip ? &*it : nullptr;
}

bool Snapshot::is_nat_dest(uint32_t ip) const {
  return std::binary_search(nat_dests.begin(), nat_dests.end(), ip);
}

uint32_t Snapshot::source_for(uint16_t port, uint32_t target) const {
  uint32_t first = 0;
  for (const OwnedAddress& a : addresses) {
    if (a.port != port || a.vip) continue;
    if (same_subnet(a.ip, target, a.prefix)) return a.ip;
    if (first == 0) first = a.ip;
  }
  return first;
}

}  // namespace fulcrum
