// SPDX-License-Identifier: Apache-2.0
#include "ipvs/service.hpp"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_memory.h>

namespace fulcrum {
namespace {

// <vip, vport, proto> in one 64-bit word, built in registers.
uint64_t svc_key(uint8_t proto, uint32_t vip, uint16_t vport) {
  return uint64_t(vip) << 32 | uint64_t(vport) << 8 | proto;
}

}  // namespace

std::unique_ptr<ServiceTable> ServiceTable::create(std::vector<Service> services,
                                                   const char* name, std::string& err) {
  rte_hash_parameters p{};
  p.name = name;
  size_t endpoints = 0;
  for (const Service& s : services) endpoints += 1 + s.extra.size();
  p.entries = std::max<uint32_t>(uint32_t(endpoints) * 2, 64);
  p.key_len = sizeof(uint64_t);
  p.hash_func = rte_hash_crc;
  p.socket_id = SOCKET_ID_ANY;
  rte_hash* h = rte_hash_create(&p);
  if (h == nullptr) {
    err = std::string("service table: ") + rte_strerror(rte_errno);
    return nullptr;
  }
  std::unique_ptr<ServiceTable> t(new ServiceTable(std::move(services), h));
  for (size_t i = 0; i < t->services_.size(); i++) {
    const Service& s = t->services_[i];
    if (s.id >= t->by_id_.size()) t->by_id_.resize(s.id + 1, -1);
    t->by_id_[s.id] = int32_t(i);
    t->any_expire_nodest_ |= s.expire_nodest;
    if (!t->add(Endpoint{s.proto, s.vip, s.vport}, i, err)) return nullptr;
    for (const Endpoint& e : s.extra)
      if (!t->add(e, i, err)) return nullptr;
  }
  return t;
}

bool ServiceTable::add(const Endpoint& e, size_t index, std::string& err) {
  uint64_t key = svc_key(e.proto, e.vip, e.vport);
  if (rte_hash_lookup(hash_, &key) >= 0) {
    err = "service " + std::to_string(services_[index].id) +
          " has the same protocol, address and port as another";
    return false;
  }
  if (rte_hash_add_key_data(hash_, &key, reinterpret_cast<void*>(uintptr_t(index))) != 0) {
    err = "service table: cannot add service " + std::to_string(services_[index].id);
    return false;
  }
  return true;
}

ServiceTable::~ServiceTable() { rte_hash_free(hash_); }

const Service* ServiceTable::find(uint8_t proto, uint32_t vip, uint16_t vport) const {
  void* data;
  uint64_t key = svc_key(proto, vip, vport);
  if (rte_hash_lookup_data(hash_, &key, &data) >= 0) return &services_[uintptr_t(data)];
  key = svc_key(proto, vip, 0);
  if (vport != 0 && rte_hash_lookup_data(hash_, &key, &data) >= 0)
    return &services_[uintptr_t(data)];
  return nullptr;
}

}  // namespace fulcrum
