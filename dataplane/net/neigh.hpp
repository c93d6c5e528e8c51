// SPDX-License-Identifier: Apache-2.0
//
// Neighbour table: IPv4 next hop -> Ethernet address, one per worker.
//
// Each worker owns its table and is its only writer, so nothing here
// locks. Workers tell each other what they learn from ARP through the
// engine's per-worker inboxes, so a reply that lands on one worker's queue
// serves them all.
//
// An outgoing packet whose next hop is unknown is held (a few per
// neighbour, bounded by `hold`) while an ARP request goes out; requests are
// repeated every `retry` up to `retries` times, after which the held
// packets are dropped and counted and the entry removed, so the next packet
// starts over. A learned entry stays valid for `reachable`, then is
// forgotten and resolved again on next use.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <rte_ether.h>
#include <rte_mbuf.h>

struct rte_hash;

namespace fulcrum {

struct NeighConfig {
  uint32_t max = 1024;        // entries
  uint64_t reachable_tsc = 0; // validity of a learned entry, in TSC cycles
  uint64_t retry_tsc = 0;     // interval between ARP requests
  uint8_t retries = 3;        // requests before giving up
  uint8_t hold = 4;           // packets held per unresolved neighbour
};

enum class NeighState : uint8_t { kIncomplete, kReachable };

struct NeighInfo {  // a row of the table, for dumps
  uint16_t port;
  uint32_t ip;      // network order
  rte_ether_addr mac;
  NeighState state;
  uint8_t held;
};

// What resolve() did with the packet.
enum class NeighResult : uint8_t { kReady, kHeld, kHoldFull, kTableFull };

// Callbacks tick() uses; the table itself never transmits.
class NeighActions {
 public:
  virtual ~NeighActions() = default;
  virtual void ask(uint16_t port, uint32_t ip) = 0;         // send an ARP request
  virtual void give_up(uint16_t port, uint32_t ip, rte_mbuf* held) = 0;  // drop one
};

class NeighTable {
 public:
  // Returns nullptr (and fills err) when the hash cannot be created.
  // name must be unique in the process. Worker or control thread.
  static std::unique_ptr<NeighTable> create(const NeighConfig& cfg, const char* name,
                                            int socket, std::string& err);
  ~NeighTable();  // frees held packets
  NeighTable(const NeighTable&) = delete;
  NeighTable& operator=(const NeighTable&) = delete;

  // Next-hop MAC for (port, ip). kReady: mac is set and m is untouched.
  // kHeld: m is now owned by the table. kHoldFull/kTableFull: m is
  // untouched and the caller drops it. ask is set when the neighbour was
  // unknown until now: the caller sends the first ARP request.
  // Owner worker only.
  NeighResult resolve(uint16_t port, uint32_t ip, uint64_t now, rte_mbuf* m,
                      rte_ether_addr& mac, bool& ask);

  // Records ip -> mac on port. Creates the entry only if create is set
  // (RFC 826: update what we know; add only when the ARP was for us).
  // Packets held for it are written to released (up to max_released, at
  // least cfg.hold) and their count returned; the caller sends them to mac.
  uint16_t learn(uint16_t port, uint32_t ip, const rte_ether_addr& mac, bool create,
                 uint64_t now, rte_mbuf** released, uint16_t max_released);

  // Retries and expiries due at now. Owner worker only.
  void tick(uint64_t now, NeighActions& actions);

  // Moves whenever an entry is removed or a MAC is learned or replaced:
  // what a cached next hop (nexthop_cache.hpp) was resolved under.
  uint64_t version() const { return version_; }

  std::vector<NeighInfo> dump() const;
  uint32_t size() const;
  uint8_t hold_limit() const { return cfg_.hold; }

 private:
  struct Entry {
    rte_ether_addr mac;
    NeighState state;
    uint8_t retries_left;
    uint8_t held;
    bool used;
    uint16_t port;
    uint32_t ip;
    uint64_t deadline;  // kReachable: expiry; kIncomplete: next request
  };
  NeighTable(const NeighConfig& cfg, rte_hash* h);
  int32_t find(uint16_t port, uint32_t ip) const;
  int32_t insert(uint16_t port, uint32_t ip);
  void remove(int32_t idx);
  void fail(int32_t idx, NeighActions& actions);
  rte_mbuf** holds(int32_t idx) { return held_.data() + size_t(idx) * cfg_.hold; }

  static constexpr uint32_t kFindCache = 64;  // power of two

  NeighConfig cfg_;
  rte_hash* hash_;
  uint64_t version_ = 0;
  mutable int32_t find_cache_[kFindCache];  // table positions, -1 = empty
  std::vector<Entry> entries_;    // indexed by the hash's key position
  std::vector<rte_mbuf*> held_;   // cfg_.hold slots per entry (may be none)
};

}  // namespace fulcrum
