// SPDX-License-Identifier: Apache-2.0
//
// Virtual services and their dests, as workers read them from a snapshot.
//
// A service answers for <protocol, vip, vport>; vport 0 makes it a
// port-zero service that takes every port of the vip (persistent only, as
// in LVS). Services and dests carry ids that stay the same across
// snapshots while the service or dest exists: per-worker statistics,
// connection counts and scheduler state are indexed by them, so a config
// change never resets what workers count. The control plane assigns the
// ids and reuses a dest id only once no connection refers to it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ipvs/laddr.hpp"
#include "ipvs/proto_tcp.hpp"
#include "sched/scheduler.hpp"

namespace fulcrum {

enum class FwdMode : uint8_t { kNat, kDr, kTun, kFullnat, kSnat };

// How a FULLNAT dest learns the client's address (the source it sees is a
// local address): TCP option 254 (TOA), a PROXY protocol v2 header before
// the first data, or not at all.
enum class ClientAddr : uint8_t { kToa, kProxyV2, kNone };

struct Dest {
  uint32_t id;          // stable, < max_dests
  uint32_t ip;          // network order
  uint16_t port;        // network order
  FwdMode fwd;
  uint32_t weight;      // 0 = quiesced
  uint32_t upper;       // connection threshold: overloaded at or above (0 = none)
  uint32_t lower;       // back below this, no longer overloaded (0 = 3/4 of upper)
  bool available;       // false while inhibited by health checks
};

// One <protocol, vip, vport> a service answers for.
struct Endpoint {
  uint8_t proto;        // IPPROTO_TCP or IPPROTO_UDP
  uint32_t vip;         // network order
  uint16_t vport;       // network order; 0 = every port
};

struct Service {
  uint32_t id;          // stable, < max_services
  uint8_t proto;        // the primary endpoint
  uint32_t vip;
  uint16_t vport;
  // A service group (the LVS firewall-mark service): further endpoints
  // answered by the same service. Its persistence template is keyed by the
  // group, <caddr & mask, 0, group, 0>, so a client's connections to any
  // endpoint (HTTP and HTTPS, say) stick to one dest.
  std::vector<Endpoint> extra;
  uint32_t persist_ms;  // persistence timeout; 0 = not persistent
  uint32_t persist_mask;  // client netmask for persistence, network order
  bool expire_nodest;     // connections to a removed dest end at their next packet
  bool synproxy;          // SYN cookies at the balancer (synproxy.hpp)
  ProtoTimeouts timeouts;
  std::vector<Laddr> laddrs;  // FULLNAT source addresses (the local-address pool)
  ClientAddr client_addr;
  std::vector<Dest> dests;
  std::vector<SchedDest> sched_dests;  // dests as the scheduler sees them, same order
  bool any_inhibited = false;  // some dest is unavailable (health checks)
  // Shared with the previous snapshot's service of the same id when its
  // name, options and sched_dests are the same: an unrelated change keeps
  // the table (a Maglev table is 65537 entries) and the workers' scheduler
  // state. Only the control thread touches the reference count.
  std::shared_ptr<const Scheduler> sched;
  std::string sched_name;
  SchedOptions sched_opts;
  uint64_t sched_gen;   // snapshot generation that built sched (resets per-worker state)
};

// Service lookup by <proto, vip, vport>, falling back to the vip's
// port-zero service. Built on the control thread, read by workers.
//
// Services are shared between snapshots: a publication that changes a
// few of 10,000 services builds those few, and the next table holds the
// same objects for the rest (a service never changes once built). Only
// the control thread touches the reference counts.
//
// The table never changes once built (a change is a new snapshot), so it
// is a plain open-addressed array of <key, service> probed linearly, at
// most half full: a lookup is one hash and, almost always, one 16-byte
// slot that holds the service itself (an index into services_ cost a new
// connection two more dependent loads). (rte_hash, used before, cost a
// SYN flood 6 % in its key compare alone and a memzone per snapshot.)
class ServiceTable {
 public:
  using Shared = std::shared_ptr<const Service>;
  static std::unique_ptr<ServiceTable> create(std::vector<Shared> services, std::string& err);
  ServiceTable(const ServiceTable&) = delete;
  ServiceTable& operator=(const ServiceTable&) = delete;

  // The service for a packet to vip:vport, or nullptr. Any thread.
  const Service* find(uint8_t proto, uint32_t vip, uint16_t vport) const;
  // <vip, vport, proto> in one 64-bit word: what the table is keyed by.
  static uint64_t key_of(uint8_t proto, uint32_t vip, uint16_t vport) {
    return uint64_t(vip) << 32 | uint64_t(vport) << 8 | proto;
  }
  // Unique to this table in the process's lifetime (never reused, unlike
  // its address): what a ServiceMemo knows the table by.
  uint64_t uid() const { return uid_; }
  // The service with this id, or nullptr. Any thread.
  const Service* by_id(uint32_t id) const {
    const Shared* s = slot_of(id);
    return s != nullptr ? s->get() : nullptr;
  }
  // The service with this id, for a later table to share. Control thread.
  Shared shared_by_id(uint32_t id) const {
    const Shared* s = slot_of(id);
    return s != nullptr ? *s : nullptr;
  }
  const std::vector<Shared>& services() const { return services_; }
  // True when some service uses expire_nodest (spares the others a lookup).
  bool any_expire_nodest() const { return any_expire_nodest_; }
  // Whether the service with this id, if it uses expire_nodest, has the
  // dest with this id: one read by dest id for every packet of its
  // connections, where a walk of its dests cost as many compares as it
  // has dests. Any thread.
  bool nodest_has(uint32_t service_id, uint32_t dest_id) const {
    return dest_id < nodest_owner_.size() && nodest_owner_[dest_id] == service_id + 1;
  }
  // Whether the dest with this id is inhibited by health checks: one byte
  // a UDP datagram on a connection can read (supersede.cpp). Any thread.
  bool dest_inhibited(uint32_t dest_id) const { return dest_id < inhibited_.size() && inhibited_[dest_id] != 0; }

 private:
  struct Slot {
    uint64_t key;
    const Service* svc;  // owned by services_; nullptr: empty
  };
  explicit ServiceTable(std::vector<Shared> services);
  const Shared* slot_of(uint32_t id) const {
    return id < by_id_.size() && by_id_[id] >= 0 ? &services_[size_t(by_id_[id])] : nullptr;
  }
  bool add(const Endpoint& e, const Service& s, std::string& err);
  void mark_inhibited(const Service& s);  // its unavailable dests in inhibited_
  bool mark_nodest_owner(const Service& s, std::string& err);  // its dests in nodest_owner_
  size_t probe(uint64_t key) const;  // key's slot, or the empty one ending its run
  uint64_t uid_;
  std::vector<Shared> services_;
  std::vector<int32_t> by_id_;  // service id -> index in services_, -1 if none
  bool any_expire_nodest_ = false;
  std::vector<uint8_t> inhibited_;  // by dest id; only as long as the highest inhibited id
  // By dest id: its service's id + 1, for the dests of expire_nodest
  // services only (0: none); only as long as the highest such dest id.
  std::vector<uint32_t> nodest_owner_;
  std::vector<Slot> slots_;  // a power of two, at least twice the endpoints
};

// A worker's last service lookup, good while it looks in the same table
// (a table never changes once built). A SYN flood, or a burst of new
// connections, to one VIP then pays a compare instead of a hash and a
// probe: 6 % of a flood's cycles were the lookup. Owner worker only.
class ServiceMemo {
 public:
  const Service* find(const ServiceTable& t, uint8_t proto, uint32_t vip, uint16_t vport) {
    uint64_t key = ServiceTable::key_of(proto, vip, vport);
    if (key != key_ || t.uid() != table_) key_ = key, table_ = t.uid(), svc_ = t.find(proto, vip, vport);
    return svc_;
  }

 private:
  uint64_t key_ = 0;
  uint64_t table_ = 0;  // no table's uid
  const Service* svc_ = nullptr;
};

}  // namespace fulcrum
