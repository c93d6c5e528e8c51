// SPDX-License-Identifier: Apache-2.0
#include "ctrl/snapshot_build.hpp"

#include <algorithm>

#include <rte_byteorder.h>
#include <rte_memory.h>

namespace fulcrum {
namespace {

std::string ip_str(uint32_t ip_be) {
  uint32_t h = rte_be_to_cpu_32(ip_be);
  return std::to_string(h >> 24) + "." + std::to_string((h >> 16) & 255) + "." +
         std::to_string((h >> 8) & 255) + "." + std::to_string(h & 255);
}

uint32_t network_of(uint32_t ip_be, uint8_t prefix) { return ip_be & prefix_mask(prefix); }

bool add_addresses(Snapshot& s, const SnapshotSpec& spec, const Snapshot* prev, uint64_t gen,
                   uint16_t nports, std::string& err) {
  for (const AddressSpec& a : spec.addresses) {
    if (a.port >= nports) return err = "address " + ip_str(a.ip) + ": no port " + std::to_string(a.port), false;
    if (a.prefix > 32) return err = "address " + ip_str(a.ip) + ": bad prefix", false;
    const OwnedAddress* old = prev ? prev->find_owned(a.ip) : nullptr;
    bool same = old != nullptr && old->port == a.port;
    s.addresses.push_back(OwnedAddress{a.ip, a.prefix, a.port, same ? old->added_gen : gen, false, false});
  }
  std::sort(s.addresses.begin(), s.addresses.end(),
            [](const OwnedAddress& x, const OwnedAddress& y) { return x.ip < y.ip; });
  for (size_t i = 1; i < s.addresses.size(); i++)
    if (s.addresses[i].ip == s.addresses[i - 1].ip)
      return err = "address " + ip_str(s.addresses[i].ip) + " is configured twice", false;
  for (const OwnedAddress& a : s.addresses) s.port_addresses.push_back(PortAddress{a.ip, a.prefix, a.port});
  return true;
}

// Connected routes from the addresses first, then static routes, so a
// static route for the same prefix is the one that stays.
bool route_entries(const Snapshot& s, const SnapshotSpec& spec, uint16_t nports,
                   std::vector<RouteEntry>& out, std::string& err) {
  for (const OwnedAddress& a : s.addresses)
    if (!a.vip) out.push_back(RouteEntry{network_of(a.ip, a.prefix), a.prefix, Nexthop{a.port, 0}});
  for (const RouteSpec& r : spec.routes) {
    if (r.port >= nports) return err = "route " + ip_str(r.prefix) + ": no port " + std::to_string(r.port), false;
    out.push_back(RouteEntry{r.prefix, r.depth, Nexthop{r.port, r.gateway}});
  }
  return true;
}

bool add_routes(Snapshot& s, const SnapshotSpec& spec, const Snapshot* prev, uint64_t gen,
                uint16_t nports, std::string& err) {
  if (!route_entries(s, spec, nports, s.route_entries, err)) return false;
  if (prev != nullptr && prev->routes && prev->route_entries == s.route_entries) {
    s.routes = prev->routes;
    return true;
  }
  std::string name = "fl_rt" + std::to_string(gen);
  auto table = RouteTable::create(name.c_str(), uint32_t(s.route_entries.size() + 8), SOCKET_ID_ANY, err);
  if (!table) return false;
  for (const RouteEntry& r : s.route_entries)
    if (!table->add(r.prefix, r.depth, r.nh, err)) return false;
  s.routes = std::move(table);
  return true;
}

}  // namespace

std::unique_ptr<Snapshot> build_snapshot(const SnapshotSpec& spec, const Snapshot* prev,
                                         uint64_t gen, const SnapshotLimits& limits,
                                         std::string& err) {
  uint16_t nports = limits.ports;
  auto s = std::make_unique<Snapshot>();
  s->generation = gen;
  if (!add_addresses(*s, spec, prev, gen, nports, err)) return nullptr;
  if (!build_services(*s, spec, prev, gen, limits, err)) return nullptr;
  if (!build_snat(*s, spec, prev, gen, limits, err)) return nullptr;
  if (!add_routes(*s, spec, prev, gen, nports, err)) return nullptr;
  s->index(prev);
  return s;
}

}  // namespace fulcrum
