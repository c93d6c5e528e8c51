// SPDX-License-Identifier: Apache-2.0
#include "ctrl/snapshot.hpp"

namespace fulcrum {

const OwnedAddress* Snapshot::find_owned(uint32_t ip) const {
  int32_t i = owned_index.find(ip);
  return i < 0 ? nullptr : &addresses[size_t(i)];
}

bool Snapshot::is_nat_dest(uint32_t ip) const { return nat_dest_index.find(ip) >= 0; }

void Snapshot::index() {
  owned_index.build(addresses.size(), [this](size_t i) { return addresses[i].ip; });
  nat_dest_index.build(nat_dests.size(), [this](size_t i) { return nat_dests[i]; });
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
