// SPDX-License-Identifier: Apache-2.0
//
// Local-address pools (DPVS's sa_pool) for FULLNAT and SNAT.
//
// A FULLNAT connection leaves the balancer from <laddr, lport>, and the
// dest's reply comes back to that pair. With several workers the reply may
// arrive on any of them, so the port itself says which worker owns the
// connection: worker w owns the ports p of the local port range (default
// 1025..65535) with p % workers == w (laddr_owner()). Each worker hands out only its own ports, from a FIFO
// ring per local address: fetch and release are O(1), and a released port
// is the last to be reused, which keeps a dest's TIME_WAIT from meeting a
// recycled <laddr, lport>. The ring is built the first time the worker uses
// the address (one allocation of its port list, never on the fast path).
//
// Local addresses carry ids that stay the same across snapshots (assigned
// by the control plane like service and dest ids), so a worker's pool and
// its LaddrStats row outlive config changes.
#pragma once

#include <cstdint>
#include <vector>

#include "ipvs/stats.hpp"

namespace fulcrum {

constexpr uint16_t kLportFirst = 1025;  // the default local port range
constexpr uint16_t kLportLast = 65535;

struct LportRange {
  uint16_t first = kLportFirst;
  uint16_t last = kLportLast;
};

// One address of a service's or an SNAT rule's pool.
struct Laddr {
  uint32_t id;  // stable, < max_laddrs
  uint32_t ip;  // network order
};

// The worker that owns local port lport (host order).
inline uint32_t laddr_owner(uint16_t lport, uint32_t workers) { return lport % workers; }

// One worker's ports on one local address.
class PortPool {
 public:
  bool ready() const { return !ring_.empty(); }
  // Fills the ring with the ports of range worker owns. Owner worker.
  void init(uint32_t worker, uint32_t workers, LportRange range = {});
  // A free port in network order, or 0 when all are in use.
  uint16_t fetch();
  // Gives back a port fetch() returned.
  void release(uint16_t lport_be);
  uint32_t capacity() const { return uint32_t(ring_.size()); }
  uint32_t used() const { return used_; }

 private:
  std::vector<uint16_t> ring_;  // network order
  uint32_t head_ = 0;           // next to fetch
  uint32_t used_ = 0;           // fetched and not released; free = capacity - used
};

// A worker's pools and their statistics rows, indexed by laddr id.
class LaddrPools {
 public:
  LaddrPools(uint32_t worker, uint32_t workers, uint32_t max_laddrs, LaddrStats* rows,
             LportRange range = {})
      : worker_(worker), workers_(workers), range_(range), pools_(max_laddrs), rows_(rows) {}

  // Picks <laddr, lport> from pool (round-robin over its addresses, the
  // next one when an address is exhausted). False when every address is
  // exhausted; each exhausted address counts a refusal.
  bool fetch(const std::vector<Laddr>& pool, Laddr& laddr, uint16_t& lport_be);
  void release(uint32_t laddr_id, uint16_t lport_be);

 private:
  uint32_t worker_, workers_;
  LportRange range_;
  std::vector<PortPool> pools_;
  LaddrStats* rows_;  // this worker's [max_laddrs]
  uint32_t cursor_ = 0;
};

}  // namespace fulcrum
