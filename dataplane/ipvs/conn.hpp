// SPDX-License-Identifier: Apache-2.0
//
// Connections and the per-worker connection table.
//
// Each worker owns one ConnTable: no other thread reads or writes it, so
// nothing locks. A connection is found from both directions: by the
// client's packets (<proto, caddr, cport, vaddr, vport>, the "in" key) and,
// in the modes where replies come back through the balancer, by the dest's
// replies (the "out" key: <proto, daddr, dport, caddr, cport> for NAT,
// <proto, daddr, dport, laddr, lport> for FULLNAT and SNAT). An SNAT
// connection's "dest" is the outside host the client talks to
// (daddr:dport = vaddr:vport). ICMP echo through SNAT is a connection
// too, the echo identifier standing in for the ports: the request is
// <ICMP, caddr, id, vaddr, 0>, the reply <ICMP, daddr, 0, laddr, lid>. Both
// keys live in one rte_hash whose data is the connection pointer with the
// direction in its low bit. Connection objects come from a mempool sized by
// config: when it is empty the new flow is refused and counted, and
// established connections are unaffected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>

#include <rte_mempool.h>

#include "ipvs/proto_tcp.hpp"
#include "ipvs/service.hpp"
#include "ipvs/timer_wheel.hpp"

struct rte_hash;

namespace fulcrum {

struct SynproxyState;

// The first cache line holds everything a packet of an established
// connection reads, in every mode (the mempool aligns objects to lines);
// the second what only setup, teardown, persistence and the SYN proxy
// touch. service_id is 16 bits to fit: service ids are below
// max_services, at most 65536.
struct Conn {
  TimerNode timer;        // expiry; timer.expires is refreshed by a store
  uint32_t caddr;         // all addresses and ports in network order
  uint32_t vaddr;
  uint32_t daddr;
  uint32_t laddr;         // FULLNAT, SNAT: the dest sees <laddr, lport> as the client
  uint16_t cport;
  uint16_t vport;
  uint16_t dport;
  uint16_t lport;
  uint8_t proto;
  TcpState state;
  FwdMode fwd;
  uint8_t flags;          // kConn*
  uint8_t client_addr;    // ClientAddr, fixed at creation
  uint8_t fnat;           // kFnat*: what has been done for the client address
  uint16_t service_id;
  uint32_t dest_id;
  uint32_t timeout_ticks; // of the current state (templates: the persistence timeout)
  // ---- second cache line
  uint16_t laddr_id;
  uint32_t controlled;    // templates: connections that refer to it
  Conn* tmpl;             // the persistence template this connection refers to
  uint32_t pp_seq;        // PROXY v2: client sequence number of the first data byte (host order)
  SynproxyState* sp;      // SYN proxy state (synproxy.hpp) when flags has kConnSynproxy
};
static_assert(offsetof(Conn, timeout_ticks) + sizeof(uint32_t) <= 64, "the packet path's fields fit one cache line");

// Whether the dest's replies come back through the balancer (and so are
// indexed, and drive the full TCP state table).
inline bool conn_sees_replies(FwdMode m) {
  return m == FwdMode::kNat || m == FwdMode::kFullnat || m == FwdMode::kSnat;
}

// Whether the connection leaves from a local address (and holds a port of
// its pool): its replies come back to <laddr, lport>.
inline bool conn_uses_laddr(FwdMode m) { return m == FwdMode::kFullnat || m == FwdMode::kSnat; }

constexpr uint8_t kFnatToaAck = 1;    // TOA rode on the handshake's ACK
constexpr uint8_t kFnatToaData = 2;   // TOA rode on the first data segment
constexpr uint8_t kFnatProxySent = 4; // the PROXY v2 header went out; pp_seq is set

constexpr uint8_t kConnHasOutKey = 1;  // indexed by its reply tuple too
constexpr uint8_t kConnIndexed = 2;    // findable (an invalidated template is not)
// A persistence template (LVS): <proto, caddr & mask, 0, vaddr, vport> ->
// dest. caddr holds the masked client address, cport is 0, vport is 0 for
// a port-zero service. Templates live in the same table under their own
// key space and are never matched by packets.
constexpr uint8_t kConnTemplate = 4;
// The connection has SYN proxy state (Conn::sp): a flag, so that other
// connections never read the second cache line.
constexpr uint8_t kConnSynproxy = 8;

// A lookup result: the connection and which way the packet goes.
struct ConnHit {
  Conn* conn;
  bool reply;  // true: dest -> client (the out key matched)
};

// A packet's tuple, for bulk lookups; network order.
struct ConnTuple {
  uint8_t proto;
  uint32_t saddr, daddr;
  uint16_t sport, dport;
};

class ConnTable {
 public:
  // max_conns connections per worker. name must be unique in the process.
  // Returns nullptr and fills err on failure. Any thread, before use.
  static std::unique_ptr<ConnTable> create(const char* name, uint32_t max_conns, int socket,
                                           std::string& err);
  ~ConnTable();
  ConnTable(const ConnTable&) = delete;
  ConnTable& operator=(const ConnTable&) = delete;

  // A zeroed connection object, or nullptr when the pool is exhausted.
  Conn* alloc();
  // Indexes c by its in key, and by its out key when with_out_key. Returns
  // false (c not indexed, still owned by the caller) when the index is full.
  bool insert(Conn* c, bool with_out_key);
  // Unindexes c (if still indexed) and returns it to the pool.
  void remove(Conn* c);
  // Makes c unfindable but keeps the object (an invalidated template that
  // connections still refer to).
  void unindex(Conn* c);
  // Returns a connection that was never indexed to the pool.
  void release(Conn* c);

  // The connection a packet <proto, saddr:sport -> daddr:dport> belongs to.
  ConnHit lookup(uint8_t proto, uint32_t saddr, uint16_t sport, uint32_t daddr,
                 uint16_t dport) const;
  // lookup() for n (<= 64) tuples at once, with rte_hash's pipelined bulk
  // lookup: the bucket loads of the burst overlap instead of queueing.
  void lookup_bulk(const ConnTuple* tuples, uint32_t n, ConnHit* out) const;
  // Bumped by every insert and unindex: results of an earlier lookup are
  // stale when it has changed since.
  uint64_t changes() const { return changes_; }

  // The persistence template for <proto, masked client, vaddr, vport>.
  Conn* lookup_template(uint8_t proto, uint32_t caddr_masked, uint32_t vaddr, uint16_t vport) const;

  uint32_t size() const { return count_; }
  uint32_t capacity() const { return capacity_; }
  // Calls f(Conn&) for every connection (dumps; not on the packet path).
  template <class F>
  void for_each(F&& f) const;

 private:
  ConnTable(rte_hash* h, rte_mempool* pool, uint32_t cap) : hash_(h), pool_(pool), capacity_(cap) {}
  rte_hash* hash_;
  rte_mempool* pool_;
  uint32_t capacity_;
  uint32_t count_ = 0;
  uint64_t changes_ = 0;
};

// Iteration walks the hash's in keys (out keys point at the same objects).
void conn_table_iterate(rte_hash* h, void (*fn)(Conn&, void*), void* arg);

template <class F>
void ConnTable::for_each(F&& f) const {
  using Fn = std::remove_reference_t<F>;
  conn_table_iterate(hash_, [](Conn& c, void* arg) { (*static_cast<Fn*>(arg))(c); }, &f);
}

}  // namespace fulcrum
