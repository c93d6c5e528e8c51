// SPDX-License-Identifier: Apache-2.0
//
// The service part of a snapshot: services with their dests and freshly
// built schedulers, SNAT rules, and the VIPs and local addresses as owned
// addresses.
#include <algorithm>

#include <rte_byteorder.h>

#include "ctrl/snapshot_build.hpp"

namespace fulcrum {
namespace {

std::string svc_name(const ServiceSpec& s) { return "service " + std::to_string(s.id); }

bool same_subnet(uint32_t a, uint32_t b, uint8_t prefix) {
  uint32_t mask = prefix == 0 ? 0 : ~uint32_t(0) << (32 - prefix);
  return ((rte_be_to_cpu_32(a) ^ rte_be_to_cpu_32(b)) & mask) == 0;
}

// The port that answers ARP for a VIP: the one whose subnet holds it, else all.
uint16_t vip_port(const Snapshot& s, uint32_t vip) {
  for (const OwnedAddress& a : s.addresses)
    if (!a.vip && same_subnet(a.ip, vip, a.prefix)) return a.port;
  return kAnyPort;
}

// A VIP or a local address becomes an owned address (ARP, ping). One
// address may be both a VIP and a local address; port addresses stay what
// they are.
void add_owned(Snapshot& s, const Snapshot* prev, uint32_t ip, uint64_t gen, bool laddr) {
  if (laddr) s.has_laddrs = true;
  for (OwnedAddress& a : s.addresses)
    if (a.ip == ip) {
      a.laddr = a.laddr || laddr;
      return;
    }
  const OwnedAddress* old = prev ? prev->find_owned(ip) : nullptr;
  uint16_t port = vip_port(s, ip);
  bool same = old != nullptr && old->port == port && old->vip;
  OwnedAddress a{ip, 32, port, same ? old->added_gen : gen, true, laddr};
  s.addresses.insert(std::upper_bound(s.addresses.begin(), s.addresses.end(), a,
                                      [](const OwnedAddress& x, const OwnedAddress& y) { return x.ip < y.ip; }),
                     a);
}

bool build_dests(Service& svc, const ServiceSpec& spec, const SnapshotLimits& limits, std::string& err) {
  for (const DestSpec& d : spec.dests) {
    if (d.id >= limits.max_dests)
      return err = svc_name(spec) + ": dest id " + std::to_string(d.id) + " beyond max_dests", false;
    svc.dests.push_back(Dest{d.id, d.ip, d.port, d.fwd, d.weight, d.upper, d.lower, d.available});
    svc.sched_dests.push_back(SchedDest{d.ip, d.port, d.weight, d.available, false});
  }
  return true;
}

bool build_laddrs(Service& svc, const ServiceSpec& spec, const SnapshotLimits& limits, std::string& err) {
  for (const Laddr& a : spec.laddrs)
    if (a.id >= limits.max_laddrs)
      return err = svc_name(spec) + ": local address id " + std::to_string(a.id) + " beyond max_laddrs", false;
  for (const DestSpec& d : spec.dests)
    if (d.fwd == FwdMode::kFullnat && spec.laddrs.empty())
      return err = svc_name(spec) + ": forward fullnat needs at least one local address", false;
  svc.laddrs = spec.laddrs;
  svc.client_addr = spec.client_addr;
  return true;
}

bool build_service(Service& svc, const ServiceSpec& spec, uint64_t gen, const SnapshotLimits& limits,
                   std::string& err) {
  if (spec.id >= limits.max_services) return err = svc_name(spec) + ": id beyond max_services", false;
  if (spec.vport == 0 && spec.persist_ms == 0)
    return err = svc_name(spec) + ": a port-zero service must be persistent", false;
  svc.id = spec.id;
  svc.proto = spec.proto;
  svc.vip = spec.vip;
  svc.vport = spec.vport;
  svc.extra = spec.extra;
  svc.persist_ms = spec.persist_ms;
  svc.persist_mask = spec.persist_mask;
  svc.expire_nodest = spec.expire_nodest;
  if (!build_laddrs(svc, spec, limits, err)) return false;
  if (!set_timeouts(svc.timeouts, spec.timeouts)) return err = svc_name(spec) + ": timeout too large", false;
  if (!build_dests(svc, spec, limits, err)) return false;
  svc.sched = make_scheduler(spec.scheduler, svc.sched_dests, spec.sched_opts, err);
  if (!svc.sched) return err = svc_name(spec) + ": " + err, false;
  svc.sched_gen = gen;
  return true;
}

// Client steering while some service is persistent (see Snapshot::steer_mask).
void set_steering(Snapshot& s, const std::vector<Service>& services) {
  bool persistent = false;
  uint32_t mask = ~uint32_t(0);
  for (const Service& svc : services) {
    for (const Dest& d : svc.dests)
      if (d.fwd == FwdMode::kNat) s.nat_dests.push_back(d.ip);
    if (svc.persist_ms == 0) continue;
    persistent = true;
    if (rte_be_to_cpu_32(svc.persist_mask) < rte_be_to_cpu_32(mask)) mask = svc.persist_mask;
  }
  std::sort(s.nat_dests.begin(), s.nat_dests.end());
  s.nat_dests.erase(std::unique(s.nat_dests.begin(), s.nat_dests.end()), s.nat_dests.end());
  s.steer_clients = persistent;
  s.steer_mask = persistent ? mask : 0;
}

uint32_t depth_mask(uint8_t depth) {
  return rte_cpu_to_be_32(depth == 0 ? 0 : ~uint32_t(0) << (32 - depth));
}

}  // namespace

bool build_snat(Snapshot& s, const SnapshotSpec& spec, const Snapshot* prev, uint64_t gen,
                const SnapshotLimits& limits, std::string& err) {
  for (const SnatSpec& r : spec.snat) {
    std::string name = "snat rule " + std::to_string(r.id);
    if (r.id >= limits.max_services || r.dest_id >= limits.max_dests)
      return err = name + ": id beyond max_services or max_dests", false;
    if (r.laddrs.empty()) return err = name + ": needs at least one local address", false;
    if (r.src_depth > 32 || r.dst_depth > 32) return err = name + ": prefix length above 32", false;
    if (r.out_port >= int32_t(limits.ports)) return err = name + ": no port " + std::to_string(r.out_port), false;
    for (const Laddr& a : r.laddrs) {
      if (a.id >= limits.max_laddrs) return err = name + ": local address id beyond max_laddrs", false;
      add_owned(s, prev, a.ip, gen, true);
    }
    uint32_t sm = depth_mask(r.src_depth), dm = depth_mask(r.dst_depth);
    uint16_t out = r.out_port < 0 ? kAnyPort : uint16_t(r.out_port);
    s.snat.push_back(SnatRule{r.id, r.dest_id, r.src & sm, sm, r.dst & dm, dm, out, r.laddrs});
  }
  return true;
}

bool build_services(Snapshot& s, const SnapshotSpec& spec, const Snapshot* prev, uint64_t gen,
                    const SnapshotLimits& limits, std::string& err) {
  if (spec.services.empty()) return true;
  std::vector<Service> services(spec.services.size());
  for (size_t i = 0; i < spec.services.size(); i++) {
    if (!build_service(services[i], spec.services[i], gen, limits, err)) return false;
    add_owned(s, prev, spec.services[i].vip, gen, false);
    for (const Endpoint& e : spec.services[i].extra) add_owned(s, prev, e.vip, gen, false);
    for (const Laddr& a : spec.services[i].laddrs) add_owned(s, prev, a.ip, gen, true);
  }
  set_steering(s, services);
  std::string name = "fl_svc" + std::to_string(gen);
  s.services = ServiceTable::create(std::move(services), name.c_str(), err);
  return s.services != nullptr;
}

}  // namespace fulcrum
