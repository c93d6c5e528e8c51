// SPDX-License-Identifier: Apache-2.0
//
// The service part of a snapshot: services with their dests and freshly
// built schedulers, SNAT rules, and the VIPs and local addresses as owned
// addresses.
#include <netinet/in.h>

#include <algorithm>
#include <iterator>

#include <rte_byteorder.h>

#include "ctrl/snapshot_build.hpp"
#include "ipvs/conn.hpp"

namespace fulcrum {
namespace {

std::string svc_name(const ServiceSpec& s) { return "service " + std::to_string(s.id); }

// The port that answers ARP for a VIP: the one whose subnet holds it, else all.
uint16_t vip_port(const Snapshot& s, uint32_t vip) {
  for (const PortAddress& a : s.port_addresses)
    if (a.holds(vip)) return a.port;
  return kAnyPort;
}

// VIPs and local addresses become owned addresses (ARP, ping). One
// address may be both a VIP and a local address; port addresses stay what
// they are. Collected first and merged into the sorted list once: 10,000
// VIPs inserted one by one into a sorted vector cost 10,000 moves of it.
class OwnedBuilder {
 public:
  OwnedBuilder(Snapshot& s, const Snapshot* prev, uint64_t gen) : s_(s), prev_(prev), gen_(gen) {}

  void add(uint32_t ip, bool laddr) {
    s_.has_laddrs = s_.has_laddrs || laddr;
    added_.push_back(Added{ip, laddr});
  }

  void finish() {
    std::sort(added_.begin(), added_.end(), [](const Added& x, const Added& y) { return x.ip < y.ip; });
    std::vector<OwnedAddress> fresh;
    for (size_t i = 0; i < added_.size();) {
      uint32_t ip = added_[i].ip;
      bool laddr = false;
      for (; i < added_.size() && added_[i].ip == ip; i++) laddr = laddr || added_[i].laddr;
      auto it = std::lower_bound(s_.addresses.begin(), s_.addresses.end(), ip,
                                 [](const OwnedAddress& a, uint32_t v) { return a.ip < v; });
      if (it != s_.addresses.end() && it->ip == ip) {
        it->laddr = it->laddr || laddr;
        continue;
      }
      const OwnedAddress* old = prev_ ? prev_->find_owned(ip) : nullptr;
      uint16_t port = vip_port(s_, ip);
      bool same = old != nullptr && old->port == port && old->vip;
      fresh.push_back(OwnedAddress{ip, 32, port, same ? old->added_gen : gen_, true, laddr});
    }
    std::vector<OwnedAddress> merged;
    merged.reserve(s_.addresses.size() + fresh.size());
    std::merge(s_.addresses.begin(), s_.addresses.end(), fresh.begin(), fresh.end(), std::back_inserter(merged),
               [](const OwnedAddress& x, const OwnedAddress& y) { return x.ip < y.ip; });
    s_.addresses = std::move(merged);
  }

 private:
  struct Added {
    uint32_t ip;
    bool laddr;
  };
  Snapshot& s_;
  const Snapshot* prev_;
  uint64_t gen_;
  std::vector<Added> added_;
};

bool build_dests(Service& svc, const ServiceSpec& spec, const SnapshotLimits& limits, std::string& err) {
  for (const DestSpec& d : spec.dests) {
    if (d.id >= limits.max_dests)
      return err = svc_name(spec) + ": dest id " + std::to_string(d.id) + " beyond max_dests", false;
    svc.dests.push_back(Dest{d.id, d.ip, d.port, d.fwd, d.weight, d.upper, d.lower, d.available});
    svc.sched_dests.push_back(SchedDest{d.ip, d.port, d.weight, d.available, false});
    svc.any_inhibited |= !d.available;
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

bool same_dests(const std::vector<SchedDest>& a, const std::vector<SchedDest>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const SchedDest& x, const SchedDest& y) {
    return x.ip == y.ip && x.port == y.port && x.weight == y.weight && x.available == y.available &&
           x.overloaded == y.overloaded;
  });
}

// True when old's scheduler is what build_service would build for svc.
bool same_scheduler(const Service& old, const Service& svc) {
  const SchedOptions &a = old.sched_opts, &b = svc.sched_opts;
  return old.sched_name == svc.sched_name && a.mh_table_size == b.mh_table_size &&
         a.mh_hash_port == b.mh_hash_port && a.mh_fallback == b.mh_fallback &&
         a.lblc_expire_ms == b.lblc_expire_ms && a.lblcr_shrink_ms == b.lblcr_shrink_ms &&
         same_dests(old.sched_dests, svc.sched_dests);
}

bool build_service(Service& svc, const ServiceSpec& spec, const Snapshot* prev, uint64_t gen,
                   const SnapshotLimits& limits, std::string& err) {
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
  svc.synproxy = spec.synproxy && spec.proto == IPPROTO_TCP;
  if (svc.synproxy && !limits.synproxy)
    return err = svc_name(spec) + ": synproxy is on, but the SYN proxy is off (dataplane.synproxy.max_conns is 0)", false;
  for (const DestSpec& d : spec.dests)
    if (svc.synproxy && !conn_sees_replies(d.fwd))
      return err = svc_name(spec) + ": synproxy needs NAT or FULLNAT dests (the balancer must see the replies)", false;
  if (!build_laddrs(svc, spec, limits, err)) return false;
  if (!set_timeouts(svc.timeouts, spec.timeouts)) return err = svc_name(spec) + ": timeout too large", false;
  if (!build_dests(svc, spec, limits, err)) return false;
  svc.sched_name = spec.scheduler;
  svc.sched_opts = spec.sched_opts;
  const Service* old = prev != nullptr && prev->services ? prev->services->by_id(spec.id) : nullptr;
  if (old != nullptr && same_scheduler(*old, svc)) {
    svc.sched = old->sched;
    svc.sched_gen = old->sched_gen;
    return true;
  }
  svc.sched = make_scheduler(spec.scheduler, svc.sched_dests, spec.sched_opts, err);
  if (!svc.sched) return err = svc_name(spec) + ": " + err, false;
  svc.sched_gen = gen;
  return true;
}

using Addrs = std::vector<uint32_t>;

void append_nat_dests(const Service& svc, Addrs& out) {
  for (const Dest& d : svc.dests)
    if (d.fwd == FwdMode::kNat) out.push_back(d.ip);
}

void sort_unique(Addrs& a) {
  std::sort(a.begin(), a.end());
  a.erase(std::unique(a.begin(), a.end()), a.end());
}

Addrs minus(const Addrs& a, const Addrs& b) {
  Addrs out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

// prev's NAT dest set changed by what changed since: the addresses of the
// services built anew (came), less those their predecessors and prev's
// services now gone had (gone) that no service has any more. Sorting
// 80,000 addresses on every publication that added or removed one was
// most of what such an edit cost the build at 10,000 services; this is a
// merge, and a scan of the dests only when an address may have gone.
Addrs nat_dests_after(const Snapshot& prev, const std::vector<ServiceTable::Shared>& services) {
  const std::vector<ServiceTable::Shared> none;
  const std::vector<ServiceTable::Shared>& before = prev.services ? prev.services->services() : none;
  uint32_t top = 0;
  for (const auto* list : {&before, &services})
    for (const ServiceTable::Shared& svc : *list) top = std::max(top, svc->id);
  std::vector<uint8_t> present(size_t(top) + 1);
  Addrs came, gone;
  for (const ServiceTable::Shared& svc : services) {
    present[svc->id] = 1;
    const Service* old = prev.services ? prev.services->by_id(svc->id) : nullptr;
    if (old == svc.get()) continue;  // kept: the very object
    append_nat_dests(*svc, came);
    if (old != nullptr) append_nat_dests(*old, gone);
  }
  for (const ServiceTable::Shared& old : before)
    if (!present[old->id]) append_nat_dests(*old, gone);
  sort_unique(came);
  sort_unique(gone);
  Addrs maybe = minus(gone, came);  // an unchanged service may still have them
  Addrs still;
  if (!maybe.empty())
    for (const ServiceTable::Shared& svc : services)
      for (const Dest& d : svc->dests)
        if (d.fwd == FwdMode::kNat && std::binary_search(maybe.begin(), maybe.end(), d.ip)) still.push_back(d.ip);
  sort_unique(still);
  Addrs grown;
  std::set_union(prev.nat_dests.begin(), prev.nat_dests.end(), came.begin(), came.end(), std::back_inserter(grown));
  return minus(grown, minus(maybe, still));
}

// Client steering while some service is persistent (see Snapshot::steer_mask),
// and the NAT dest addresses, whose replies go to their client's worker.
void set_steering(Snapshot& s, const std::vector<ServiceTable::Shared>& services, const Snapshot* prev) {
  bool persistent = false;
  uint32_t mask = ~uint32_t(0);
  for (const ServiceTable::Shared& svc : services) {
    if (svc->persist_ms == 0) continue;
    persistent = true;
    if (rte_be_to_cpu_32(svc->persist_mask) < rte_be_to_cpu_32(mask)) mask = svc->persist_mask;
  }
  s.steer_clients = persistent;
  s.steer_mask = persistent ? mask : 0;
  if (prev != nullptr) {
    s.nat_dests = nat_dests_after(*prev, services);
    return;
  }
  for (const ServiceTable::Shared& svc : services) append_nat_dests(*svc, s.nat_dests);
  sort_unique(s.nat_dests);
}

}  // namespace

bool build_snat(Snapshot& s, const SnapshotSpec& spec, const Snapshot* prev, uint64_t gen,
                const SnapshotLimits& limits, std::string& err) {
  OwnedBuilder owned(s, prev, gen);
  for (const SnatSpec& r : spec.snat) {
    std::string name = "snat rule " + std::to_string(r.id);
    if (r.id >= limits.max_services || r.dest_id >= limits.max_dests)
      return err = name + ": id beyond max_services or max_dests", false;
    if (r.laddrs.empty()) return err = name + ": needs at least one local address", false;
    if (r.src_depth > 32 || r.dst_depth > 32) return err = name + ": prefix length above 32", false;
    if (r.out_port >= int32_t(limits.ports)) return err = name + ": no port " + std::to_string(r.out_port), false;
    for (const Laddr& a : r.laddrs) {
      if (a.id >= limits.max_laddrs) return err = name + ": local address id beyond max_laddrs", false;
      owned.add(a.ip, true);
    }
    uint32_t sm = prefix_mask(r.src_depth), dm = prefix_mask(r.dst_depth);
    uint16_t out = r.out_port < 0 ? kAnyPort : uint16_t(r.out_port);
    s.snat.push_back(SnatRule{r.id, r.dest_id, r.src & sm, sm, r.dst & dm, dm, out, r.laddrs});
  }
  owned.finish();
  return true;
}

// The service spec describes: prev's own when kept, else built anew.
ServiceTable::Shared service_for(const ServiceSpec& spec, const Snapshot* prev, uint64_t gen,
                                 const SnapshotLimits& limits, std::string& err) {
  if (spec.keep) {
    ServiceTable::Shared kept = prev != nullptr && prev->services ? prev->services->shared_by_id(spec.id) : nullptr;
    if (!kept) err = svc_name(spec) + ": kept, but the previous snapshot has no such service";
    return kept;
  }
  auto svc = std::make_shared<Service>();
  if (!build_service(*svc, spec, prev, gen, limits, err)) return nullptr;
  return svc;
}

bool build_services(Snapshot& s, const SnapshotSpec& spec, const Snapshot* prev, uint64_t gen,
                    const SnapshotLimits& limits, std::string& err) {
  if (spec.services.empty()) return true;
  std::vector<ServiceTable::Shared> services;
  services.reserve(spec.services.size());
  OwnedBuilder owned(s, prev, gen);
  for (const ServiceSpec& one : spec.services) {
    ServiceTable::Shared svc = service_for(one, prev, gen, limits, err);
    if (!svc) return false;
    owned.add(svc->vip, false);
    for (const Endpoint& e : svc->extra) owned.add(e.vip, false);
    for (const Laddr& a : svc->laddrs) owned.add(a.ip, true);
    services.push_back(std::move(svc));
  }
  owned.finish();
  set_steering(s, services, prev);
  s.services = ServiceTable::create(std::move(services), err);
  return s.services != nullptr;
}

}  // namespace fulcrum
