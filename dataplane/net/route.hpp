// SPDX-License-Identifier: Apache-2.0
//
// IPv4 routes: longest-prefix match with rte_lpm.
//
// A route table is built once on the control thread (connected subnets of
// the ports plus static routes), becomes part of an immutable snapshot and
// is then only read by workers, which rte_lpm allows without locks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct rte_lpm;

namespace fulcrum {

struct Nexthop {
  uint16_t port;      // config index of the output port
  uint32_t gateway;   // network order; 0 = directly connected (ARP the destination)
};

class RouteTable {
 public:
  // max_routes bounds the rules; name must be unique in the process.
  // Returns nullptr and fills err on failure. Control thread.
  static std::unique_ptr<RouteTable> create(const char* name, uint32_t max_routes, int socket,
                                            std::string& err);
  ~RouteTable();
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

  // Adds prefix/depth (prefix in network order). A later add of the same
  // prefix replaces the earlier one. Returns false and fills err on
  // failure. Control thread, before the table is published.
  bool add(uint32_t prefix, uint8_t depth, const Nexthop& nh, std::string& err);

  // Next hop for dst (network order), nullptr when no route matches.
  // Any thread, lock-free.
  const Nexthop* lookup(uint32_t dst) const;

 private:
  explicit RouteTable(rte_lpm* lpm) : lpm_(lpm) {}
  rte_lpm* lpm_;
  std::vector<Nexthop> nexthops_;  // rte_lpm stores an index into this
  int32_t default_ = -1;           // rte_lpm has no depth 0: the default route lives here
};

}  // namespace fulcrum
