// SPDX-License-Identifier: Apache-2.0
//
// Pieces of the IPVS path shared by its files (ipvs.cpp: packets and the
// connection lifecycle; schedule.cpp: dest choice; persist.cpp:
// persistence templates). Owner worker only, like everything in ipvs/.
#pragma once

#include <cstdint>

#include "ipvs/ipvs.hpp"

namespace fulcrum {

// The flow a new connection is for; network order.
struct Tuple {
  uint32_t saddr, daddr;
  uint16_t sport, dport;
};

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
