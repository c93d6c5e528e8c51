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
// <ICMP, caddr, id, vaddr, 0>, the reply <ICMP, daddr, 0, laddr, lid>.
//
// Memory (what bench/cps --scale measures): connections live in one array
// of 64-byte lines, each holding everything an established packet reads;
// what only setup, teardown, persistence and the SYN proxy touch is in a
// parallel array of 32-byte ConnExt (ext()). Free connections are chained
// through the array itself. Both keys point into the array from one
// ConnIndex (conn_index.hpp), 8 bytes an entry, the key itself read from
// the connection. About 64 + 32 + 2 x 8 / 0.85 = 115 bytes per connection,
// where rte_hash and a mempool took 322. When the array is used up new
// flows are refused and counted; established connections are unaffected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>

#include "ipvs/conn_index.hpp"
#include "ipvs/proto_tcp.hpp"
#include "ipvs/service.hpp"
#include "ipvs/timer_wheel.hpp"

namespace fulcrum {

struct SynproxyState;

// One cache line: everything a packet of an established connection reads,
// in every mode. service_id is 16 bits to fit: service ids are below
// max_services, at most 65536.
struct alignas(64) Conn {
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
};
static_assert(sizeof(Conn) == 64, "a connection is one cache line");

// What setup, teardown, persistence, PROXY v2 and the SYN proxy keep
// beside a connection (ConnTable::ext()), out of the packet path's line.
struct ConnExt {
  Conn* tmpl;             // the persistence template this connection refers to
  SynproxyState* sp;      // SYN proxy state (synproxy.hpp) when flags has kConnSynproxy
  uint32_t controlled;    // templates: connections that refer to it
  uint32_t pp_seq;        // PROXY v2: client sequence number of the first data byte (host order)
  uint16_t laddr_id;
};
static_assert(sizeof(ConnExt) <= 32);

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

// A lookup key: two words, every bit defined: saddr | daddr << 32, and
// sport | dport << 16 | proto << 32. proto carries kTemplateSpace for
// persistence templates, which packets never match. Words, not fields: a
// key stored in 2- and 4-byte pieces and loaded back as the hash's two
// words stalls each load (no store-to-load forwarding), which was most of
// the hash's cost under a SYN flood.
struct ConnKey {
  uint64_t addrs;
  uint64_t rest;
  bool operator==(const ConnKey&) const = default;
};
static_assert(sizeof(ConnKey) == 16);
constexpr uint32_t kTemplateSpace = 0x100;  // beyond any IP protocol number

// Why insert() refused.
enum class ConnInsert : uint8_t {
  kOk,
  kFull,   // the index has no room
  kClash,  // a key is another connection's (two services NAT one client port to one dest port)
};

class ConnTable {
 public:
  // max_conns connections per worker. Returns nullptr and fills err on
  // failure. Any thread, before use.
  static std::unique_ptr<ConnTable> create(const char* name, uint32_t max_conns, int socket,
                                           std::string& err);
  ~ConnTable();
  ConnTable(const ConnTable&) = delete;
  ConnTable& operator=(const ConnTable&) = delete;

  // A zeroed connection (and ext), or nullptr when all are in use.
  Conn* alloc();
  // Indexes c by its in key, and by its out key when with_out_key. On
  // refusal c is not indexed and still owned by the caller.
  ConnInsert insert(Conn* c, bool with_out_key);
  // Unindexes c (if still indexed) and frees it.
  void remove(Conn* c);
  // Makes c unfindable but keeps the object (an invalidated template that
  // connections still refer to).
  void unindex(Conn* c);
  // Frees a connection that was never indexed.
  void release(Conn* c);

  ConnExt& ext(const Conn& c) { return ext_[slot(c)]; }
  const ConnExt& ext(const Conn& c) const { return ext_[slot(c)]; }

  // The connection a packet <proto, saddr:sport -> daddr:dport> belongs to.
  ConnHit lookup(uint8_t proto, uint32_t saddr, uint16_t sport, uint32_t daddr,
                 uint16_t dport) const;
  // lookup() for n (<= 64) tuples at once, in stages (hash and prefetch
  // every bucket, then every candidate connection, then match), so that
  // the cache misses of a burst overlap instead of queueing.
  void lookup_bulk(const ConnTuple* tuples, uint32_t n, ConnHit* out) const;
  // Bumped by every insert and unindex: results of an earlier lookup are
  // stale when it has changed since.
  uint64_t changes() const { return changes_; }

  // The persistence template for <proto, masked client, vaddr, vport>.
  Conn* lookup_template(uint8_t proto, uint32_t caddr_masked, uint32_t vaddr, uint16_t vport) const;

  uint32_t size() const { return count_; }
  uint32_t capacity() const { return capacity_; }
  // Bytes of memory the table took at create (connections, ext, index).
  size_t bytes() const;
  // The indexed connection holding c's client key, or (with_out_key) its
  // reply key, other than c itself: what insert() clashed with. nullptr: none.
  Conn* clashing(const Conn& c, bool with_out_key) const;

  // Calls f(Conn&) for every indexed connection (dumps; not on the packet path).
  template <class F>
  void for_each(F&& f) const;

 private:
  ConnTable() = default;
  uint32_t slot(const Conn& c) const { return uint32_t(&c - conns_); }
  Conn& conn_of_ref(uint32_t ref) const { return conns_[ref >> 1]; }
  uint64_t hash(const ConnKey& k) const;
  bool matches(uint32_t ref, const ConnKey& k) const;
  uint32_t find(const ConnKey& k) const;
  ConnInsert add(const ConnKey& k, uint32_t ref);

  Conn* conns_ = nullptr;     // [capacity_]
  ConnExt* ext_ = nullptr;    // [capacity_]
  ConnIndex index_;
  uint32_t free_ = 0;         // first free slot; capacity_ when none
  uint32_t capacity_ = 0;
  uint32_t count_ = 0;
  uint64_t changes_ = 0;
  uint64_t seed_[3] = {};
};

template <class F>
void ConnTable::for_each(F&& f) const {
  // In keys only: out keys name the same connections.
  index_.for_each([&](uint32_t ref) {
    if ((ref & 1) == 0) f(conn_of_ref(ref));
  });
}

}  // namespace fulcrum
