// SPDX-License-Identifier: Apache-2.0
#include "net/route.hpp"

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_lpm.h>

namespace fulcrum {

std::unique_ptr<RouteTable> RouteTable::create(const char* name, uint32_t max_routes,
                                               int socket, std::string& err) {
  rte_lpm_config cfg{};
  cfg.max_rules = max_routes;
  cfg.number_tbl8s = 256;
  rte_lpm* lpm = rte_lpm_create(name, socket, &cfg);
  if (lpm == nullptr) {
    err = std::string("route table ") + name + ": " + rte_strerror(rte_errno);
    return nullptr;
  }
  return std::unique_ptr<RouteTable>(new RouteTable(lpm));
}

RouteTable::~RouteTable() { rte_lpm_free(lpm_); }

bool RouteTable::add(uint32_t prefix, uint8_t depth, const Nexthop& nh, std::string& err) {
  nexthops_.push_back(nh);
  if (depth == 0) {
    default_ = int32_t(nexthops_.size() - 1);
    return true;
  }
  int rc = rte_lpm_add(lpm_, rte_be_to_cpu_32(prefix), depth, uint32_t(nexthops_.size() - 1));
  if (rc < 0) {
    nexthops_.pop_back();
    err = "route add failed: " + std::string(rte_strerror(-rc));
    return false;
  }
  return true;
}

const Nexthop* RouteTable::lookup(uint32_t dst) const {
  uint32_t idx;
  if (rte_lpm_lookup(lpm_, rte_be_to_cpu_32(dst), &idx) == 0) return &nexthops_[idx];
  return default_ >= 0 ? &nexthops_[size_t(default_)] : nullptr;
}

}  // namespace fulcrum
