// SPDX-License-Identifier: Apache-2.0
#include "ipvs/conn.hpp"

#include <cstring>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>

namespace fulcrum {
namespace {

// 16 bytes, every byte defined (hashed and compared as raw memory).
struct ConnKey {
  uint32_t saddr;
  uint32_t daddr;
  uint16_t sport;
  uint16_t dport;
  uint32_t proto;
};
static_assert(sizeof(ConnKey) == 16);

ConnKey make_key(uint8_t proto, uint32_t saddr, uint16_t sport, uint32_t daddr, uint16_t dport) {
  return ConnKey{saddr, daddr, sport, dport, proto};
}

constexpr uint32_t kTemplateSpace = 0x100;  // beyond any IP protocol number

ConnKey in_key(const Conn& c) {
  ConnKey k = make_key(c.proto, c.caddr, c.cport, c.vaddr, c.vport);
  if (c.flags & kConnTemplate) k.proto |= kTemplateSpace;
  return k;
}
ConnKey out_key(const Conn& c) {
  if (conn_uses_laddr(c.fwd)) return make_key(c.proto, c.daddr, c.dport, c.laddr, c.lport);
  return make_key(c.proto, c.daddr, c.dport, c.caddr, c.cport);
}

constexpr uintptr_t kReplyBit = 1;  // Conn objects are at least 8-byte aligned

}  // namespace

std::unique_ptr<ConnTable> ConnTable::create(const char* name, uint32_t max_conns, int socket,
                                             std::string& err) {
  std::string pool_name = std::string(name) + "_p";
  rte_mempool* pool = rte_mempool_create(pool_name.c_str(), max_conns, sizeof(Conn), 0, 0,
                                         nullptr, nullptr, nullptr, nullptr, socket,
                                         MEMPOOL_F_SP_PUT | MEMPOOL_F_SC_GET);
  if (pool == nullptr) {
    err = "connection pool of " + std::to_string(max_conns) + ": " + rte_strerror(rte_errno);
    return nullptr;
  }
  rte_hash_parameters p{};
  p.name = name;
  p.entries = max_conns * 2;  // an in and an out key per connection
  p.key_len = sizeof(ConnKey);
  p.hash_func = rte_hash_crc;
  p.socket_id = socket;
  p.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;  // no insert failure below capacity
  rte_hash* h = rte_hash_create(&p);
  if (h == nullptr) {
    rte_mempool_free(pool);
    err = "connection index: " + std::string(rte_strerror(rte_errno));
    return nullptr;
  }
  return std::unique_ptr<ConnTable>(new ConnTable(h, pool, max_conns));
}

ConnTable::~ConnTable() {
  rte_hash_free(hash_);
  rte_mempool_free(pool_);
}

Conn* ConnTable::alloc() {
  void* obj;
  if (rte_mempool_get(pool_, &obj) != 0) return nullptr;
  std::memset(obj, 0, sizeof(Conn));
  return static_cast<Conn*>(obj);
}

bool ConnTable::insert(Conn* c, bool with_out_key) {
  ConnKey in = in_key(*c);
  if (rte_hash_add_key_data(hash_, &in, c) != 0) return false;
  if (with_out_key) {
    ConnKey out = out_key(*c);
    void* tagged = reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(c) | kReplyBit);
    if (rte_hash_add_key_data(hash_, &out, tagged) != 0) {
      rte_hash_del_key(hash_, &in);
      return false;
    }
    c->flags |= kConnHasOutKey;
  }
  c->flags |= kConnIndexed;
  count_++;
  changes_++;
  return true;
}

void ConnTable::unindex(Conn* c) {
  if (!(c->flags & kConnIndexed)) return;
  ConnKey in = in_key(*c);
  rte_hash_del_key(hash_, &in);
  if (c->flags & kConnHasOutKey) {
    ConnKey out = out_key(*c);
    rte_hash_del_key(hash_, &out);
  }
  c->flags &= uint8_t(~(kConnIndexed | kConnHasOutKey));
  changes_++;
}

void ConnTable::remove(Conn* c) {
  unindex(c);
  count_--;
  rte_mempool_put(pool_, c);
}

void ConnTable::release(Conn* c) { rte_mempool_put(pool_, c); }

static ConnHit hit_of(void* data) {
  auto bits = reinterpret_cast<uintptr_t>(data);
  return ConnHit{reinterpret_cast<Conn*>(bits & ~kReplyBit), (bits & kReplyBit) != 0};
}

void ConnTable::lookup_bulk(const ConnTuple* tuples, uint32_t n, ConnHit* out) const {
  ConnKey keys[RTE_HASH_LOOKUP_BULK_MAX];
  const void* key_ptrs[RTE_HASH_LOOKUP_BULK_MAX];
  void* data[RTE_HASH_LOOKUP_BULK_MAX];
  for (uint32_t i = 0; i < n; i++) {
    const ConnTuple& t = tuples[i];
    keys[i] = make_key(t.proto, t.saddr, t.sport, t.daddr, t.dport);
    key_ptrs[i] = &keys[i];
  }
  uint64_t found = 0;
  rte_hash_lookup_bulk_data(hash_, key_ptrs, n, &found, data);
  for (uint32_t i = 0; i < n; i++)
    out[i] = (found >> i) & 1 ? hit_of(data[i]) : ConnHit{nullptr, false};
}

ConnHit ConnTable::lookup(uint8_t proto, uint32_t saddr, uint16_t sport, uint32_t daddr,
                          uint16_t dport) const {
  ConnKey key = make_key(proto, saddr, sport, daddr, dport);
  void* data;
  if (rte_hash_lookup_data(hash_, &key, &data) < 0) return ConnHit{nullptr, false};
  return hit_of(data);
}

Conn* ConnTable::lookup_template(uint8_t proto, uint32_t caddr_masked, uint32_t vaddr,
                                 uint16_t vport) const {
  ConnKey key = make_key(proto, caddr_masked, 0, vaddr, vport);
  key.proto |= kTemplateSpace;
  void* data;
  return rte_hash_lookup_data(hash_, &key, &data) < 0 ? nullptr : static_cast<Conn*>(data);
}

void conn_table_iterate(rte_hash* h, void (*fn)(Conn&, void*), void* arg) {
  const void* key;
  void* data;
  uint32_t next = 0;
  while (rte_hash_iterate(h, &key, &data, &next) >= 0) {
    auto bits = reinterpret_cast<uintptr_t>(data);
    if ((bits & kReplyBit) == 0) fn(*reinterpret_cast<Conn*>(bits), arg);
  }
}

}  // namespace fulcrum
