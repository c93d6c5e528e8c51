// SPDX-License-Identifier: Apache-2.0
#include "ipvs/conn.hpp"

#include <cstring>

#include <rte_malloc.h>
#include <rte_random.h>

namespace fulcrum {
namespace {

ConnKey make_key(uint32_t proto, uint32_t saddr, uint16_t sport, uint32_t daddr, uint16_t dport) {
  return ConnKey{uint64_t(saddr) | uint64_t(daddr) << 32,
                 uint64_t(sport) | uint64_t(dport) << 16 | uint64_t(proto) << 32};
}

ConnKey in_key(const Conn& c) {
  uint32_t space = (c.flags & kConnTemplate) ? kTemplateSpace : 0;
  return make_key(c.proto | space, c.caddr, c.cport, c.vaddr, c.vport);
}
ConnKey out_key(const Conn& c) {
  if (conn_uses_laddr(c.fwd)) return make_key(c.proto, c.daddr, c.dport, c.laddr, c.lport);
  return make_key(c.proto, c.daddr, c.dport, c.caddr, c.cport);
}

// A reference is the connection's slot and the direction of the key.
uint32_t ref_of(uint32_t slot, bool reply) { return slot << 1 | uint32_t(reply); }

// A free connection's first word is the next free slot (capacity: none).
uint32_t next_free(const Conn& c) {
  uint32_t n;
  std::memcpy(&n, &c, sizeof n);
  return n;
}
void set_next_free(Conn& c, uint32_t n) { std::memcpy(&c, &n, sizeof n); }

uint64_t mix(uint64_t a, uint64_t b) {
  __uint128_t p = static_cast<__uint128_t>(a) * b;
  return uint64_t(p) ^ uint64_t(p >> 64);
}

}  // namespace

std::unique_ptr<ConnTable> ConnTable::create(const char* name, uint32_t max_conns, int socket,
                                             std::string& err) {
  std::unique_ptr<ConnTable> t(new ConnTable());
  if (max_conns == 0 || max_conns > (UINT32_MAX >> 1)) {
    err = std::string(name) + ": " + std::to_string(max_conns) + " connections is out of range";
    return nullptr;
  }
  t->conns_ = static_cast<Conn*>(rte_zmalloc_socket(name, size_t(max_conns) * sizeof(Conn), 64, socket));
  t->ext_ = static_cast<ConnExt*>(rte_zmalloc_socket(name, size_t(max_conns) * sizeof(ConnExt), 64, socket));
  // An in and an out key per connection at most.
  if (t->conns_ == nullptr || t->ext_ == nullptr || !t->index_.init(2 * max_conns, socket)) {
    err = "connection table of " + std::to_string(max_conns) + ": not enough memory";
    return nullptr;
  }
  t->capacity_ = max_conns;
  // The free chain runs through the array: a free connection's first word
  // is the next free slot.
  for (uint32_t i = 0; i < max_conns; i++) set_next_free(t->conns_[i], i + 1);
  t->free_ = 0;
  for (uint64_t& s : t->seed_) s = rte_rand() | 1;
  return t;
}

ConnTable::~ConnTable() {
  rte_free(conns_);
  rte_free(ext_);
}

size_t ConnTable::bytes() const {
  return size_t(capacity_) * (sizeof(Conn) + sizeof(ConnExt)) + index_.bytes();
}

Conn* ConnTable::alloc() {
  if (free_ == capacity_) return nullptr;
  Conn* c = &conns_[free_];
  free_ = next_free(*c);
  std::memset(c, 0, sizeof(Conn));
  ext_[slot(*c)] = ConnExt{};
  return c;
}

void ConnTable::release(Conn* c) {
  set_next_free(*c, free_);
  free_ = slot(*c);
}

// Two multiplications of the key's two words with the table's random
// seeds: the buckets a spoofed flood lands in cannot be predicted.
uint64_t ConnTable::hash(const ConnKey& k) const {
  return mix(mix(k.addrs ^ seed_[0], k.rest ^ seed_[1]), seed_[2]);
}

// Inlined into every lookup: left a call (GCC's choice), it was 2.5 % of
// a FULLNAT worker's time on its own, and profile-guided builds inline it.
[[gnu::always_inline]] inline bool ConnTable::matches(uint32_t ref, const ConnKey& k) const {
  const Conn& c = conn_of_ref(ref);
  return ((ref & 1) ? out_key(c) : in_key(c)) == k;
}

uint32_t ConnTable::find(const ConnKey& k) const {
  return index_.find(hash(k), [&](uint32_t ref) { return matches(ref, k); });
}

ConnInsert ConnTable::add(const ConnKey& k, uint32_t ref) {
  auto rehash = [&](uint32_t r) {
    const Conn& c = conn_of_ref(r);
    return hash((r & 1) ? out_key(c) : in_key(c));
  };
  switch (index_.insert(hash(k), ref, [&](uint32_t r) { return matches(r, k); }, rehash)) {
    case ConnIndex::Add::kOk: return ConnInsert::kOk;
    case ConnIndex::Add::kExists: return ConnInsert::kClash;
    case ConnIndex::Add::kFull: break;
  }
  return ConnInsert::kFull;
}

ConnInsert ConnTable::insert(Conn* c, bool with_out_key) {
  uint32_t s = slot(*c);
  ConnKey in = in_key(*c);
  ConnInsert r = add(in, ref_of(s, false));
  if (r == ConnInsert::kOk && with_out_key) {
    r = add(out_key(*c), ref_of(s, true));
    if (r != ConnInsert::kOk) index_.erase(hash(in), ref_of(s, false));
  }
  if (r != ConnInsert::kOk) return r;
  c->flags |= kConnIndexed | (with_out_key ? kConnHasOutKey : 0);
  count_++;
  changes_++;
  return r;
}

void ConnTable::unindex(Conn* c) {
  if (!(c->flags & kConnIndexed)) return;
  uint32_t s = slot(*c);
  index_.erase(hash(in_key(*c)), ref_of(s, false));
  if (c->flags & kConnHasOutKey) index_.erase(hash(out_key(*c)), ref_of(s, true));
  c->flags &= uint8_t(~(kConnIndexed | kConnHasOutKey));
  changes_++;
}

void ConnTable::remove(Conn* c) {
  unindex(c);
  count_--;
  release(c);
}

static ConnHit hit_of(const Conn* base, uint32_t ref) {
  if (ref == ConnIndex::kNone) return ConnHit{nullptr, false};
  return ConnHit{const_cast<Conn*>(base + (ref >> 1)), (ref & 1) != 0};
}

void ConnTable::lookup_bulk(const ConnTuple* tuples, uint32_t n, ConnHit* out) const {
  ConnKey keys[64];
  ConnIndex::Probe probes[64];
  uint32_t cand[64];
  for (uint32_t i = 0; i < n; i++) {
    const ConnTuple& t = tuples[i];
    keys[i] = make_key(t.proto, t.saddr, t.sport, t.daddr, t.dport);
    probes[i] = index_.probe(hash(keys[i]));
    index_.prefetch(probes[i]);
  }
  for (uint32_t i = 0; i < n; i++) {
    cand[i] = index_.candidate(probes[i]);
    if (cand[i] != ConnIndex::kNone) __builtin_prefetch(&conn_of_ref(cand[i]));
    else index_.prefetch_second(probes[i]);
  }
  // The first candidate is almost always the connection; otherwise (a
  // signature collision, or an entry in its second bucket) the full search.
  for (uint32_t i = 0; i < n; i++) {
    uint32_t ref = cand[i] != ConnIndex::kNone && matches(cand[i], keys[i])
                       ? cand[i]
                       : index_.find(probes[i], [&](uint32_t r) { return matches(r, keys[i]); });
    out[i] = hit_of(conns_, ref);
  }
}

Conn* ConnTable::clashing(const Conn& c, bool with_out_key) const {
  for (bool reply : {false, true}) {
    if (reply && !with_out_key) break;
    Conn* other = hit_of(conns_, find(reply ? out_key(c) : in_key(c))).conn;
    if (other != nullptr && other != &c) return other;
  }
  return nullptr;
}

ConnHit ConnTable::lookup(uint8_t proto, uint32_t saddr, uint16_t sport, uint32_t daddr,
                          uint16_t dport) const {
  return hit_of(conns_, find(make_key(proto, saddr, sport, daddr, dport)));
}

Conn* ConnTable::lookup_template(uint8_t proto, uint32_t caddr_masked, uint32_t vaddr,
                                 uint16_t vport) const {
  return hit_of(conns_, find(make_key(proto | kTemplateSpace, caddr_masked, 0, vaddr, vport))).conn;
}

}  // namespace fulcrum
