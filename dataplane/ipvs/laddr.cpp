// SPDX-License-Identifier: Apache-2.0
#include "ipvs/laddr.hpp"

#include <rte_byteorder.h>

namespace fulcrum {

void PortPool::init(uint32_t worker, uint32_t workers, LportRange range) {
  for (uint32_t p = range.first; p <= range.last; p++)
    if (laddr_owner(uint16_t(p), workers) == worker) ring_.push_back(rte_cpu_to_be_16(uint16_t(p)));
  head_ = 0;
  used_ = 0;
}

// The ring holds capacity slots; the free ports are the `capacity - used`
// slots starting at head, in the order they were released.
uint16_t PortPool::fetch() {
  if (used_ == ring_.size()) return 0;
  uint16_t p = ring_[head_];
  head_ = head_ + 1 == ring_.size() ? 0 : head_ + 1;
  used_++;
  return p;
}

void PortPool::release(uint16_t lport_be) {
  uint32_t tail = head_ + uint32_t(ring_.size()) - used_;  // one past the last free slot
  if (tail >= ring_.size()) tail -= uint32_t(ring_.size());
  ring_[tail] = lport_be;
  used_--;
}

bool LaddrPools::fetch(const std::vector<Laddr>& pool, Laddr& laddr, uint16_t& lport_be) {
  size_t n = pool.size();
  for (size_t i = 0; i < n; i++) {
    const Laddr& a = pool[(cursor_ + i) % n];
    if (a.id >= pools_.size()) continue;  // refused by the snapshot builder; never here
    PortPool& p = pools_[a.id];
    LaddrStats& row = rows_[a.id];
    if (!p.ready()) {
      p.init(worker_, workers_, range_);
      row.v[size_t(LaddrStat::capacity)] = p.capacity();
    }
    uint16_t port = p.fetch();
    if (port == 0) {
      row.add(LaddrStat::exhausted);
      continue;
    }
    row.add(LaddrStat::used);
    row.add(LaddrStat::conns);
    cursor_ = uint32_t((cursor_ + i + 1) % n);
    laddr = a;
    lport_be = port;
    return true;
  }
  return false;
}

void LaddrPools::release(uint32_t laddr_id, uint16_t lport_be) {
  pools_[laddr_id].release(lport_be);
  rows_[laddr_id].sub(LaddrStat::used);
}

}  // namespace fulcrum
