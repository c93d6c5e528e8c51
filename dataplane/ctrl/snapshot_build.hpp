// SPDX-License-Identifier: Apache-2.0
//
// Building a Snapshot from the plain description the control plane sends.
// Runs on the control thread; the result is immutable once published.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ctrl/snapshot.hpp"
#include "ipvs/service.hpp"

namespace fulcrum {

struct AddressSpec {
  uint32_t ip;      // network order
  uint8_t prefix;
  uint16_t port;    // config index
};

struct RouteSpec {
  uint32_t prefix;  // network order, host bits zero
  uint8_t depth;
  uint16_t port;
  uint32_t gateway; // network order; 0 = connected
};

struct DestSpec {
  uint32_t id;      // stable, < max_dests
  uint32_t ip;      // network order
  uint16_t port;    // network order; 0 = the port the client asked for
  FwdMode fwd;
  uint32_t weight;
  uint32_t upper, lower;
  bool available;
};

struct ServiceSpec {
  uint32_t id;      // stable, < max_services
  // The previous snapshot's service of this id, as it is: the rest of the
  // spec is not read (the control plane sends an unchanged service by id).
  bool keep = false;
  uint8_t proto;
  uint32_t vip;     // network order
  uint16_t vport;   // network order; 0 = every port (persistent only)
  std::vector<Endpoint> extra;  // a service group's further endpoints
  std::string scheduler;
  SchedOptions sched_opts;
  uint32_t persist_ms;
  uint32_t persist_mask;  // network order
  bool expire_nodest;     // LVS expire_nodest_conn, per service
  bool synproxy;          // SYN cookies at the balancer; NAT and FULLNAT dests only
  TimeoutSet timeouts;    // 0 = default
  std::vector<Laddr> laddrs;   // FULLNAT local-address pool
  ClientAddr client_addr;
  std::vector<DestSpec> dests;
};

struct SnatSpec {
  uint32_t id;       // stable, < max_services (shares the service id space)
  uint32_t dest_id;  // stable, < max_dests
  uint32_t src;      // network order, host bits zero
  uint8_t src_depth;
  uint32_t dst;
  uint8_t dst_depth;
  int32_t out_port;  // config index, -1 = any
  std::vector<Laddr> laddrs;
};

struct SnapshotSpec {
  std::vector<AddressSpec> addresses;
  std::vector<RouteSpec> routes;  // static routes; connected ones are derived
  std::vector<ServiceSpec> services;
  std::vector<SnatSpec> snat;
};

// Limits the engine was started with; specs beyond them are refused.
struct SnapshotLimits {
  uint16_t ports;
  uint32_t max_services;
  uint32_t max_dests;
  uint32_t max_laddrs = 64;
  bool synproxy = true;  // the workers have SYN proxy state pools
};

// Builds the snapshot for generation gen. Each port address also yields
// its connected route. An address already in prev keeps its added_gen, so
// only new addresses are announced by gratuitous ARP; when the routes are
// the same as prev's, prev's route table is shared rather than rebuilt. Returns nullptr and
// fills err on failure (bad port index, duplicate address, LPM full).
std::unique_ptr<Snapshot> build_snapshot(const SnapshotSpec& spec, const Snapshot* prev,
                                         uint64_t gen, const SnapshotLimits& limits,
                                         std::string& err);

// The service part: every VIP becomes an owned address (answered on the
// port whose subnet holds it, or on any port), every service gets its
// scheduler built for generation gen, and a kept service (spec.keep) is
// prev's very object. Called by build_snapshot.
bool build_services(Snapshot& s, const SnapshotSpec& spec, const Snapshot* prev, uint64_t gen,
                    const SnapshotLimits& limits, std::string& err);

// The SNAT rules: checked, masks made, local addresses owned. Called by
// build_snapshot after build_services.
bool build_snat(Snapshot& s, const SnapshotSpec& spec, const Snapshot* prev, uint64_t gen,
                const SnapshotLimits& limits, std::string& err);

}  // namespace fulcrum
