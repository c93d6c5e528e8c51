// SPDX-License-Identifier: Apache-2.0
#include "ctrl/snapshot.hpp"

#include <algorithm>

namespace fulcrum {

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
  for (const PortAddress& a : port_addresses) {
    if (a.port != port) continue;
    if (a.holds(target)) return a.ip;
    if (first == 0) first = a.ip;
  }
  return first;
}

}  // namespace fulcrum
