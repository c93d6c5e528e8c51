// SPDX-License-Identifier: Apache-2.0
//
// A client's packet that matches a connection but starts a new one
// instead. Clients reuse ports: behind a busy NAT within SYN_RECV's 60 s,
// and some always send from one (syslog, RADIUS, SIP over UDP). Two cases:
//
// - The connection has finished (TIME_WAIT, CLOSE): a plain SYN is a new
//   connection (IPVS conn_reuse_mode). The old one is freed and the SYN
//   scheduled as any new flow (conns_reused).
// - Its dest is down (inhibited by health checks; for a SYN also removed):
//   a plain SYN, or any UDP datagram, moves to a dest that can take it,
//   the old connection freed (conns_rescheduled). Otherwise a dead dest's
//   old connections would catch the new flows its checks keep from it.
//   Only when some dest can take it: with none, the packet stays on its
//   connection, as before (checks failing for every dest at once are more
//   likely about the checks). A quiesced dest (weight 0) keeps its
//   packets: it still answers, and a retransmitted SYN belongs with the
//   first. SNAT connections belong to a rule, not a service.
#include <netinet/in.h>

#include <optional>

#include "ipvs/ipvs_internal.hpp"

namespace fulcrum {
namespace {

bool movable(const Conn& c) { return c.fwd != FwdMode::kSnat && (c.flags & kConnTemplate) == 0; }

// A plain SYN on a connection whose dest is inhibited or removed (alone or
// with its service). Rare: only SYNs that hit a connection look.
bool syn_on_down_dest(const WorkerCtx& ctx, const Conn& c, uint8_t flags) {
  if (c.proto != IPPROTO_TCP || !tcp_is_syn_only(flags) || !movable(c)) return false;
  const ServiceTable* t = ctx.snap->services.get();
  if (t == nullptr) return true;
  if (t->dest_inhibited(c.dest_id)) return true;
  const Service* s = t->by_id(c.service_id);
  return s == nullptr || find_dest(*s, c.dest_id) == nullptr;
}

// A datagram on a UDP connection whose dest is inhibited: one byte read by
// dest id, and nothing while no dest anywhere is inhibited.
bool udp_on_inhibited_dest(const WorkerCtx& ctx, const Conn& c) {
  if (c.proto != IPPROTO_UDP || !movable(c)) return false;
  const ServiceTable* t = ctx.snap->services.get();
  return t != nullptr && t->dest_inhibited(c.dest_id);
}

// Moves the flow of old to a dest s can schedule now: old freed, the new
// connection made (nullptr when it could not be: counted). Nothing, old
// kept, when no dest can take it.
std::optional<Conn*> conn_move(WorkerCtx& ctx, const Service& s, Conn* old, uint8_t proto, const Tuple& t) {
  Conn* tmpl;
  int32_t idx = choose_dest(ctx, s, proto, t, tmpl);
  if (idx < 0) return std::nullopt;
  conn_free(*ctx.ipvs, old);
  ctx.count(Counter::conns_rescheduled);
  return conn_open(ctx, s, idx, tmpl, proto, t);
}

}  // namespace

Superseded conn_supersede(WorkerCtx& ctx, ConnHit hit, uint8_t proto, const Tuple& t, uint8_t flags) {
  if (hit.conn == nullptr || hit.reply) return {hit, false};
  Conn* c = hit.conn;
  if (tcp_conn_reuse_resched(c->state, flags, kConnReuseClosed, !conn_sees_replies(c->fwd))) {
    conn_free(*ctx.ipvs, c);
    ctx.count(Counter::conns_reused);
    return {ConnHit{nullptr, false}, false};
  }
  if (!syn_on_down_dest(ctx, *c, flags) && !udp_on_inhibited_dest(ctx, *c)) return {hit, false};
  // The packet's service, as for a new flow; none (removed): c drains.
  const Service* s = ctx.snap->services != nullptr ? ctx.snap->services->find(proto, t.daddr, t.dport) : nullptr;
  if (s == nullptr) return {hit, false};
  // The SYN proxy answers a new SYN itself and schedules only on the ACK.
  if (s->synproxy && proto == IPPROTO_TCP) {
    conn_free(*ctx.ipvs, c);
    ctx.count(Counter::conns_rescheduled);
    return {ConnHit{nullptr, false}, false};
  }
  std::optional<Conn*> moved = conn_move(ctx, *s, c, proto, t);
  if (!moved) return {hit, false};
  return {ConnHit{*moved, false}, *moved == nullptr};
}

}  // namespace fulcrum
