// SPDX-License-Identifier: Apache-2.0
#include "ctrl/snapshot.hpp"

#include <algorithm>

namespace fulcrum {
namespace {

bool same_ips(const std::vector<OwnedAddress>& a, const std::vector<OwnedAddress>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const OwnedAddress& x, const OwnedAddress& y) { return x.ip == y.ip; });
}

}  // namespace

const OwnedAddress* Snapshot::find_owned(uint32_t ip) const {
  int32_t i = owned_index.find(ip);
  return i < 0 ? nullptr : &addresses[size_t(i)];
}

bool Snapshot::is_nat_dest(uint32_t ip) const { return nat_dest_index.find(ip) >= 0; }

void Snapshot::index(const Snapshot* prev) {
  if (prev != nullptr && same_ips(prev->addresses, addresses))
    owned_index = prev->owned_index;
  else
    owned_index.build(addresses.size(), [this](size_t i) { return addresses[i].ip; });
  if (prev != nullptr && prev->nat_dests == nat_dests)
    nat_dest_index = prev->nat_dest_index;
  else
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
