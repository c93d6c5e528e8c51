// SPDX-License-Identifier: Apache-2.0
#include "ipvs/service.hpp"

#include <algorithm>
#include <atomic>
#include <bit>

#include <rte_hash_crc.h>

namespace fulcrum {

// Tables are made on the control thread, but tests make them anywhere.
ServiceTable::ServiceTable(std::vector<Shared> services) : services_(std::move(services)) {
  static std::atomic<uint64_t> made{0};
  uid_ = made.fetch_add(1, std::memory_order_relaxed) + 1;
}

std::unique_ptr<ServiceTable> ServiceTable::create(std::vector<Shared> services, std::string& err) {
  size_t endpoints = 0;
  for (const Shared& s : services) endpoints += 1 + s->extra.size();
  std::unique_ptr<ServiceTable> t(new ServiceTable(std::move(services)));
  t->slots_.assign(std::bit_ceil(std::max<size_t>(endpoints * 2, 16)), Slot{0, nullptr});
  for (size_t i = 0; i < t->services_.size(); i++) {
    const Service& s = *t->services_[i];
    if (s.id >= t->by_id_.size()) t->by_id_.resize(s.id + 1, -1);
    // Workers find a connection's service by its id: two with one id would
    // leave one of them unreachable, so that is refused, not overwritten.
    if (t->by_id_[s.id] >= 0) return err = "service id " + std::to_string(s.id) + " is used twice", nullptr;
    t->by_id_[s.id] = int32_t(i);
    t->any_expire_nodest_ |= s.expire_nodest;
    if (s.expire_nodest && !t->mark_nodest_owner(s, err)) return nullptr;
    if (s.any_inhibited) t->mark_inhibited(s);
    if (!t->add(Endpoint{s.proto, s.vip, s.vport}, s, err)) return nullptr;
    for (const Endpoint& e : s.extra)
      if (!t->add(e, s, err)) return nullptr;
  }
  return t;
}

bool ServiceTable::mark_nodest_owner(const Service& s, std::string& err) {
  for (const Dest& d : s.dests) {
    if (d.id >= nodest_owner_.size()) nodest_owner_.resize(d.id + 1, 0);
    // One owner a dest id: a second would end the first's connections as
    // if their dest were gone. Refused, not overwritten.
    if (nodest_owner_[d.id] != 0) return err = "dest id " + std::to_string(d.id) + " is used twice", false;
    nodest_owner_[d.id] = s.id + 1;
  }
  return true;
}

void ServiceTable::mark_inhibited(const Service& s) {
  for (const Dest& d : s.dests) {
    if (d.available) continue;
    if (d.id >= inhibited_.size()) inhibited_.resize(d.id + 1, 0);
    inhibited_[d.id] = 1;
  }
}

size_t ServiceTable::probe(uint64_t key) const {
  size_t mask = slots_.size() - 1;
  // Never full (twice the endpoints), so every run ends at an empty slot.
  for (size_t i = rte_hash_crc_8byte(key, 0) & mask;; i = (i + 1) & mask)
    if (slots_[i].svc == nullptr || slots_[i].key == key) return i;
}

bool ServiceTable::add(const Endpoint& e, const Service& s, std::string& err) {
  uint64_t key = key_of(e.proto, e.vip, e.vport);
  Slot& slot = slots_[probe(key)];
  if (slot.svc != nullptr) {
    err = "service " + std::to_string(s.id) + " has the same protocol, address and port as another";
    return false;
  }
  slot = Slot{key, &s};
  return true;
}

const Service* ServiceTable::find(uint8_t proto, uint32_t vip, uint16_t vport) const {
  const Service* exact = slots_[probe(key_of(proto, vip, vport))].svc;
  if (exact != nullptr || vport == 0) return exact;
  return slots_[probe(key_of(proto, vip, 0))].svc;
}

}  // namespace fulcrum
