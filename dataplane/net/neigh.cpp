// SPDX-License-Identifier: Apache-2.0
#include "net/neigh.hpp"

#include <algorithm>
#include <iterator>
#include <string>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>

namespace fulcrum {
namespace {

// One 64-bit word: built in a register and hashed with the CPU's CRC32
// instruction (a struct filled field by field and then re-read as bytes
// stalls on the store, and jhash costs more).
using NeighKey = uint64_t;

NeighKey make_key(uint16_t port, uint32_t ip) { return uint64_t(port) << 32 | ip; }

}  // namespace

std::unique_ptr<NeighTable> NeighTable::create(const NeighConfig& cfg, const char* name,
                                               int socket, std::string& err) {
  rte_hash_parameters p{};
  p.name = name;
  p.entries = std::max<uint32_t>(cfg.max, 8);
  p.key_len = sizeof(NeighKey);
  p.hash_func = rte_hash_crc;
  p.socket_id = socket;
  rte_hash* h = rte_hash_create(&p);
  if (h == nullptr) {
    err = std::string("neighbour table ") + name + ": " + rte_strerror(rte_errno);
    return nullptr;
  }
  return std::unique_ptr<NeighTable>(new NeighTable(cfg, h));
}

NeighTable::NeighTable(const NeighConfig& cfg, rte_hash* h)
    : cfg_(cfg),
      hash_(h),
      entries_(size_t(rte_hash_max_key_id(h)) + 1),
      held_(entries_.size() * cfg.hold, nullptr) {
  std::fill(std::begin(find_cache_), std::end(find_cache_), -1);
}

NeighTable::~NeighTable() {
  for (size_t i = 0; i < entries_.size(); i++)
    for (uint8_t k = 0; k < entries_[i].held; k++) rte_pktmbuf_free(holds(int32_t(i))[k]);
  rte_hash_free(hash_);
}

// A worker sends to few next hops (the gateway, its dests), so a small
// direct-mapped cache of table positions spares most lookups the hash.
// (Packets to a next hop the worker's NexthopCache holds do not get here:
// this serves that cache's misses and ARP learning.) A position stays
// valid while its entry holds the same key, which the check against the
// entry itself confirms; a miss falls back to the hash.
int32_t NeighTable::find(uint16_t port, uint32_t ip) const {
  NeighKey key = make_key(port, ip);
  uint32_t slot = rte_hash_crc_8byte(key, 0) & (kFindCache - 1);
  int32_t idx = find_cache_[slot];
  if (idx >= 0 && entries_[idx].used && entries_[idx].ip == ip && entries_[idx].port == port) return idx;
  idx = rte_hash_lookup(hash_, &key);
  if (idx < 0) return -1;
  find_cache_[slot] = idx;
  return idx;
}

int32_t NeighTable::insert(uint16_t port, uint32_t ip) {
  NeighKey key = make_key(port, ip);
  int32_t idx = rte_hash_add_key(hash_, &key);
  if (idx < 0 || size_t(idx) >= entries_.size()) return -1;
  entries_[idx] = Entry{};
  entries_[idx].used = true;
  entries_[idx].port = port;
  entries_[idx].ip = ip;
  return idx;
}

void NeighTable::remove(int32_t idx) {
  Entry& e = entries_[idx];
  NeighKey key = make_key(e.port, e.ip);
  rte_hash_del_key(hash_, &key);
  e = Entry{};
  version_++;
}

NeighResult NeighTable::resolve(uint16_t port, uint32_t ip, uint64_t now, rte_mbuf* m,
                                rte_ether_addr& mac, bool& ask) {
  ask = false;
  int32_t idx = find(port, ip);
  if (idx >= 0 && entries_[idx].state == NeighState::kReachable) {
    mac = entries_[idx].mac;
    return NeighResult::kReady;
  }
  if (idx < 0) {
    idx = insert(port, ip);
    if (idx < 0) return NeighResult::kTableFull;
    Entry& e = entries_[idx];
    e.state = NeighState::kIncomplete;
    e.retries_left = cfg_.retries > 0 ? cfg_.retries - 1 : 0;
    e.deadline = now + cfg_.retry_tsc;
    ask = true;
  }
  Entry& e = entries_[idx];
  if (e.held >= cfg_.hold) return NeighResult::kHoldFull;
  holds(idx)[e.held++] = m;
  return NeighResult::kHeld;
}

uint16_t NeighTable::learn(uint16_t port, uint32_t ip, const rte_ether_addr& mac, bool create,
                           uint64_t now, rte_mbuf** released, uint16_t max_released) {
  int32_t idx = find(port, ip);
  if (idx < 0) {
    if (!create) return 0;
    idx = insert(port, ip);
    if (idx < 0) return 0;
  }
  Entry& e = entries_[idx];
  // A refresh of what is known leaves cached next hops valid.
  if (e.state != NeighState::kReachable || !rte_is_same_ether_addr(&e.mac, &mac)) version_++;
  e.mac = mac;
  e.state = NeighState::kReachable;
  e.deadline = now + cfg_.reachable_tsc;
  uint16_t n = std::min<uint16_t>(e.held, max_released);
  std::copy_n(holds(idx), n, released);
  // Anything beyond the caller's room cannot happen when max_released >=
  // hold; free defensively rather than leak.
  for (uint8_t k = n; k < e.held; k++) rte_pktmbuf_free(holds(idx)[k]);
  e.held = 0;
  return n;
}

void NeighTable::fail(int32_t idx, NeighActions& actions) {
  Entry& e = entries_[idx];
  for (uint8_t k = 0; k < e.held; k++) actions.give_up(e.port, e.ip, holds(idx)[k]);
  e.held = 0;
  remove(idx);
}

void NeighTable::tick(uint64_t now, NeighActions& actions) {
  for (size_t i = 0; i < entries_.size(); i++) {
    Entry& e = entries_[i];
    if (!e.used || e.deadline > now) continue;
    if (e.state == NeighState::kReachable) {
      remove(int32_t(i));
    } else if (e.retries_left == 0) {
      fail(int32_t(i), actions);
    } else {
      e.retries_left--;
      e.deadline = now + cfg_.retry_tsc;
      actions.ask(e.port, e.ip);
    }
  }
}

std::vector<NeighInfo> NeighTable::dump() const {
  std::vector<NeighInfo> rows;
  for (const Entry& e : entries_)
    if (e.used) rows.push_back(NeighInfo{e.port, e.ip, e.mac, e.state, e.held});
  return rows;
}

uint32_t NeighTable::size() const { return uint32_t(rte_hash_count(hash_)); }

}  // namespace fulcrum
