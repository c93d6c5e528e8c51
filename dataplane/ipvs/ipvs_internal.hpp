// SPDX-License-Identifier: Apache-2.0
//
// Pieces of the IPVS path shared by its files (ipvs.cpp: packets and the
// connection lifecycle; schedule.cpp: dest choice; persist.cpp:
// persistence templates; supersede.cpp: packets that start a new
// connection on an old one's key). Owner worker only, like everything in ipvs/.
#pragma once

#include <cstdint>

#include "ipvs/ipvs.hpp"

namespace fulcrum {

// The flow a new connection is for; network order.
struct Tuple {
  uint32_t saddr, daddr;
  uint16_t sport, dport;
};

// What a new connection is made of, however it was chosen (scheduled to a
// service's dest, or matched by an SNAT rule).
struct ConnPlan {
  uint32_t service_id, dest_id;  // an SNAT rule has ids from the same spaces
  uint32_t daddr;
  uint16_t dport;
  FwdMode fwd;
  const std::vector<Laddr>* laddrs;  // FULLNAT/SNAT: the pool
  ClientAddr client_addr;
};

// Creates, indexes, counts and arms the connection for flow t. nullptr when
// refused (counted: pool, index or local ports exhausted).
Conn* conn_create(WorkerCtx& ctx, const ConnPlan& plan, uint8_t proto, const Tuple& t);

// The connection for a new flow to service s (scheduled, through its
// persistence template if any). nullptr when refused (counted).
Conn* conn_schedule(WorkerCtx& ctx, const Service& s, uint8_t proto, const Tuple& t);

// The dest index for a new flow to s, through its template when
// persistent (*tmpl: the template the connection must reference). -1:
// none usable (not counted); -2: refused and counted already.
int32_t choose_dest(WorkerCtx& ctx, const Service& s, uint8_t proto, const Tuple& t, Conn*& tmpl);

// The connection for a new flow to s's dest at index idx, bound to tmpl
// when persistent. nullptr when refused (counted).
Conn* conn_open(WorkerCtx& ctx, const Service& s, int32_t idx, Conn* tmpl, uint8_t proto, const Tuple& t);

// What a client's packet on a connection turned out to belong to
// (supersede.cpp): hit as it was, another connection, or none (to be
// scheduled as a new flow); drop when the new connection was refused.
struct Superseded {
  ConnHit hit;
  bool drop;
};
Superseded conn_supersede(WorkerCtx& ctx, ConnHit hit, uint8_t proto, const Tuple& t, uint8_t flags);

// Moves c to state next: its dest's active/inactive counts and its
// timeout follow.
void conn_set_state(WorkerCtx& ctx, Conn& c, TcpState next);

// Every packet of a known connection: state, expiry, stats, xmit.
void conn_packet(WorkerCtx& ctx, ConnHit hit, rte_mbuf* m, const PacketMeta& meta, uint8_t flags);

// A packet no connection and no service claims, matched against the SNAT
// rules (snat.cpp). False (m untouched) when no rule takes it.
bool snat_in(WorkerCtx& ctx, rte_mbuf* m, const PacketMeta& meta, const Tuple& t, uint8_t flags);

// ICMP echo through SNAT (snat.cpp): requests from inside, replies to a
// local address. False (m untouched) when it is not such a packet.
bool snat_icmp_echo(WorkerCtx& ctx, rte_mbuf* m, const PacketMeta& meta);

// The dest index the service's scheduler picks for this flow, or -1.
int32_t schedule(WorkerCtx& ctx, const Service& s, uint8_t proto, const Tuple& t);

// Whether dest d may take new connections now: weight > 0, available, not
// overloaded (its thresholds checked against the current counts).
bool dest_usable(IpvsWorker& v, const Dest& d);

// The dest of s with this id, or nullptr (removed from the service).
const Dest* find_dest(const Service& s, uint32_t dest_id);

// The dest index for a new connection of the persistent service s: the
// client's template's dest when that dest is still usable, otherwise a
// freshly scheduled one with a new template. *tmpl is the template the
// connection must reference. -1 when no dest can be had (the caller
// counts it); -2 when the template could not be made (counted here).
int32_t persist_pick(WorkerCtx& ctx, const Service& s, uint8_t proto, const Tuple& t, Conn*& tmpl);

// Ties connection c to template t (refreshing the template's expiry).
void persist_bind(WorkerCtx& ctx, const Service& s, Conn& c, Conn& t);

// Called when the wheel expires template t: re-armed while connections
// still refer to it. Returns true when t may be freed.
bool persist_expired(IpvsWorker& v, Conn& t);

// An ICMP error quoting a packet of one of the worker's connections,
// translated and forwarded to the other side. Returns false (m untouched)
// when it is not such an error. icmp_error.cpp.
bool ipvs_icmp_error(WorkerCtx& ctx, rte_mbuf* m, const PacketMeta& meta);

// Releases connection or template c (counts, wheel, table).
void conn_free(IpvsWorker& v, Conn* c);

}  // namespace fulcrum
