// SPDX-License-Identifier: Apache-2.0
//
// Config snapshots: everything workers read but do not own.
//
// The control thread builds a Snapshot, publishes it with one pointer
// store, and never changes it again; workers read whichever snapshot was
// current when their loop iteration began. The previous snapshot is freed
// only once every worker has since reported a quiescent state (rte_rcu_qsbr),
// so a worker never sees memory freed under it and never takes a lock.
// Later subsystems (services, dests, local addresses) add their tables here.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "ctrl/address_index.hpp"
#include "ipvs/service.hpp"
#include "net/prefix.hpp"
#include "net/route.hpp"

namespace fulcrum {

// An OwnedAddress::port meaning "answer ARP for it on every port".
constexpr uint16_t kAnyPort = 0xffff;

struct OwnedAddress {
  uint32_t ip;           // network order
  uint8_t prefix;        // of the connected subnet (32 for a VIP)
  uint16_t port;         // config index of the port that answers ARP, or kAnyPort
  uint64_t added_gen;    // generation that added it: announced by GARP once
  bool vip;              // a service address, not a port's own address
  bool laddr;            // a FULLNAT/SNAT local address: replies are steered by port

  bool answers_on(uint16_t in_port) const { return port == in_port || port == kAnyPort; }
};

// One route as built into the table, for telling whether two snapshots
// have the same routes.
struct RouteEntry {
  uint32_t prefix;  // network order
  uint8_t depth;
  Nexthop nh;
  bool operator==(const RouteEntry& o) const {
    return prefix == o.prefix && depth == o.depth && nh.port == o.nh.port &&
           nh.gateway == o.nh.gateway;
  }
};

// Source NAT for a network behind the balancer: flows from src/src_mask
// to dst/dst_mask (leaving by out_port, unless kAnyPort) leave from an
// address and port of laddrs. Ids come from the service and dest id
// spaces, so each rule has its statistics rows like a service with one dest.
struct SnatRule {
  uint32_t id;
  uint32_t dest_id;
  uint32_t src, src_mask;  // network order
  uint32_t dst, dst_mask;
  uint16_t out_port;
  std::vector<Laddr> laddrs;

  bool matches(uint32_t saddr, uint32_t daddr) const {
    return (saddr & src_mask) == src && (daddr & dst_mask) == dst;
  }
};

// A port's own address (not a VIP, not only a local address).
struct PortAddress {
  uint32_t ip;     // network order
  uint8_t prefix;  // of the connected subnet
  uint16_t port;   // config index

  // Whether other (network order) is on this address's connected subnet.
  bool holds(uint32_t other) const { return same_prefix(ip, other, prefix); }
};

struct Snapshot {
  uint64_t generation = 0;
  std::vector<OwnedAddress> addresses;  // sorted by ip
  // The ports' own addresses, sorted by ip like `addresses`: what
  // source_for scans for every TUN packet and ARP request, without the
  // thousands of VIPs `addresses` also holds.
  std::vector<PortAddress> port_addresses;
  // Shared with the previous snapshot when the routes did not change: an
  // rte_lpm costs 64 MiB, and most config changes (services, dests) leave
  // routes alone. Only the control thread touches the reference count.
  std::shared_ptr<const RouteTable> routes;
  std::vector<RouteEntry> route_entries;  // what routes was built from
  std::unique_ptr<ServiceTable> services;  // null when there are none
  bool has_laddrs = false;  // some owned address is a local address
  // Client steering (engine/steer.hpp), on while some service is
  // persistent: every connection belongs to the worker given by its client
  // address under steer_mask (network order), the shortest persistence
  // netmask of all services, so one client's template and all its
  // connections live on one worker.
  bool steer_clients = false;
  uint32_t steer_mask = 0;
  std::vector<uint32_t> nat_dests;  // sorted: NAT dest addresses, whose replies go to the client's worker
  // Positions in `addresses` and `nat_dests`, for the lookups of every
  // steered packet; built last (index()), or sharing the previous
  // snapshot's table when its list was the same (a weight or a health
  // verdict changes neither: at 80,000 NAT dests a new index cost a
  // publication 0.2 ms). Only the control thread copies them.
  AddressIndex owned_index, nat_dest_index;

  bool steering() const { return has_laddrs || steer_clients; }
  bool is_nat_dest(uint32_t ip) const;
  std::vector<SnatRule> snat;  // in config order: the first match wins

  // The owned address equal to ip (network order), or nullptr. Any thread.
  const OwnedAddress* find_owned(uint32_t ip) const;

  // Builds owned_index and nat_dest_index from `addresses` and
  // `nat_dests`, once they are final (the last step of a build), taking
  // prev's (if any) where its list is the same.
  void index(const Snapshot* prev);

  // The address port should use as ARP sender towards target: one on the
  // same subnet if any, else the port's first. 0 when the port has none.
  uint32_t source_for(uint16_t port, uint32_t target) const;
};

}  // namespace fulcrum
