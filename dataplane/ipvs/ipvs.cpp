// SPDX-License-Identifier: Apache-2.0
#include "ipvs/ipvs.hpp"
#include "ipvs/ipvs_internal.hpp"

#include <netinet/in.h>

#include <cstddef>

#include <rte_ip.h>
#include <rte_prefetch.h>
#include <rte_tcp.h>

#include "xmit/xmit.hpp"

namespace fulcrum {
namespace {

constexpr size_t kExpireBudget = 256;  // expirations per loop iteration at most

Tuple tuple_of(const rte_mbuf* m, const PacketMeta& meta) {
  auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, meta.l3_off);
  auto* ports = rte_pktmbuf_mtod_offset(m, const uint16_t*, meta.l4_off);
  return Tuple{ip->src_addr, ip->dst_addr, ports[0], ports[1]};
}

uint8_t tcp_flags_of(const rte_mbuf* m, const PacketMeta& meta) {
  if (meta.l4_proto != IPPROTO_TCP) return 0;
  return rte_pktmbuf_mtod_offset(m, const rte_tcp_hdr*, meta.l4_off)->tcp_flags;
}

Conn* conn_of(TimerNode* n) {
  return reinterpret_cast<Conn*>(reinterpret_cast<char*>(n) - offsetof(Conn, timer));
}

const ProtoTimeouts& timeouts_for(const WorkerCtx& ctx, uint32_t service_id) {
  static constexpr ProtoTimeouts kDefaults{};
  const Service* s = ctx.snap->services ? ctx.snap->services->by_id(service_id) : nullptr;
  return s != nullptr ? s->timeouts : kDefaults;
}

uint32_t ticks(const IpvsWorker& v, uint32_t ms) { return (ms + v.cfg.tick_ms - 1) / v.cfg.tick_ms; }

}  // namespace

void conn_set_state(WorkerCtx& ctx, Conn& c, TcpState next) {
  IpvsWorker& v = *ctx.ipvs;
  DestStats& d = v.dest_stats[c.dest_id];
  if (tcp_state_active(c.state) != tcp_state_active(next)) {
    d.sub(tcp_state_active(c.state) ? DestStat::active : DestStat::inactive);
    d.add(tcp_state_active(next) ? DestStat::active : DestStat::inactive);
  }
  c.state = next;
  const ProtoTimeouts& t = timeouts_for(ctx, c.service_id);
  c.timeout_ticks = ticks(v, c.proto == IPPROTO_TCP ? t.tcp_ms(next) : t.udp);
}

namespace {

void account(IpvsWorker& v, const Conn& c, bool reply, uint32_t bytes) {
  DestStats& d = v.dest_stats[c.dest_id];
  ServiceStats& s = v.svc_stats[c.service_id];
  d.add(reply ? DestStat::outpkts : DestStat::inpkts);
  d.add(reply ? DestStat::outbytes : DestStat::inbytes, bytes);
  s.add(reply ? ServiceStat::outpkts : ServiceStat::inpkts);
  s.add(reply ? ServiceStat::outbytes : ServiceStat::inbytes, bytes);
}

}  // namespace

// Every packet of a known connection comes through here.
void conn_packet(WorkerCtx& ctx, ConnHit hit, rte_mbuf* m, const PacketMeta& meta, uint8_t flags) {
  IpvsWorker& v = *ctx.ipvs;
  Conn& c = *hit.conn;
  if ((c.flags & kConnSynproxy) && !synproxy_packet(ctx, hit, m, meta, flags)) return;
  if (c.proto == IPPROTO_TCP) {
    // The dest refused the connection: a passive health signal.
    if (hit.reply && (flags & kTcpRst) && (c.state == TcpState::kSynRecv || c.state == TcpState::kSynSent))
      v.dest_stats[c.dest_id].add(DestStat::resets);
    TcpDir dir = hit.reply ? TcpDir::kOutput : conn_sees_replies(c.fwd) ? TcpDir::kInput : TcpDir::kInputOnly;
    TcpState next = tcp_next_state(c.state, dir, flags);
    if (next != c.state) conn_set_state(ctx, c, next);
  }
  // Usually a store (the wheel re-queues lazily); a re-queue only when the
  // new state's timeout is shorter than what is queued (e.g. to CLOSE).
  v.wheel->refresh(&c.timer, v.now_tick + c.timeout_ticks);
  account(v, c, hit.reply, rte_pktmbuf_pkt_len(m) - meta.l3_off);
  if (hit.reply) xmit_out(ctx, c, m, meta);
  else xmit_in(ctx, c, m, meta);
}

namespace {

// LVS expire_nodest_conn: when the connection's service asks for it and
// the dest was removed, the connection ends instead of draining. Nothing
// is looked up unless some service uses the option, and then a dest still
// there is one read.
bool dest_gone(const WorkerCtx& ctx, const Conn& c) {
  const ServiceTable* t = ctx.snap->services.get();
  if (t == nullptr || !t->any_expire_nodest() || t->nodest_has(c.service_id, c.dest_id)) return false;
  const Service* s = t->by_id(c.service_id);
  return s != nullptr && s->expire_nodest;
}

// choose_dest, with none usable counted.
int32_t pick_dest(WorkerCtx& ctx, const Service& s, uint8_t proto, const Tuple& t, Conn*& tmpl) {
  int32_t idx = choose_dest(ctx, s, proto, t, tmpl);
  if (idx == -1) ctx.count(Counter::drop_no_dest);
  return idx;
}

// FULLNAT, SNAT: the <laddr, lport> the other side will see as the client.
// False when the pool is exhausted on this worker (counted).
bool conn_bind_laddr(WorkerCtx& ctx, const ConnPlan& plan, Conn& c) {
  if (!conn_uses_laddr(c.fwd)) return true;
  Laddr a;
  if (!ctx.ipvs->laddrs->fetch(*plan.laddrs, a, c.lport)) return ctx.count(Counter::drop_laddr_exhausted), false;
  c.laddr = a.ip;
  ctx.ipvs->conns->ext(c).laddr_id = uint16_t(a.id);
  c.client_addr = uint8_t(plan.client_addr);
  return true;
}

void conn_fill(Conn& c, const ConnPlan& plan, uint8_t proto, const Tuple& t) {
  c.caddr = t.saddr;
  c.cport = t.sport;
  c.vaddr = t.daddr;
  c.vport = t.dport;
  c.daddr = plan.daddr;
  c.dport = plan.dport != 0 ? plan.dport : t.dport;  // port 0: the port the client asked for
  c.proto = proto;
  c.fwd = plan.fwd;
  c.service_id = uint16_t(plan.service_id);
  c.dest_id = plan.dest_id;
}

}  // namespace

int32_t choose_dest(WorkerCtx& ctx, const Service& s, uint8_t proto, const Tuple& t, Conn*& tmpl) {
  tmpl = nullptr;
  return s.persist_ms != 0 ? persist_pick(ctx, s, proto, t, tmpl) : schedule(ctx, s, proto, t);
}

Conn* conn_schedule(WorkerCtx& ctx, const Service& s, uint8_t proto, const Tuple& t) {
  Conn* tmpl;
  int32_t idx = pick_dest(ctx, s, proto, t, tmpl);
  return idx < 0 ? nullptr : conn_open(ctx, s, idx, tmpl, proto, t);
}

Conn* conn_open(WorkerCtx& ctx, const Service& s, int32_t idx, Conn* tmpl, uint8_t proto, const Tuple& t) {
  const Dest& d = s.dests[size_t(idx)];
  Conn* c = conn_create(ctx, ConnPlan{s.id, d.id, d.ip, d.port, d.fwd, &s.laddrs, s.client_addr}, proto, t);
  if (c != nullptr && tmpl != nullptr) persist_bind(ctx, s, *c, *tmpl);
  return c;
}

// A new connection's key is held by a connection that has finished
// (TIME_WAIT or CLOSE): typically the client reused its port towards
// another VIP whose service NATs to the same dest, while the old
// connection waits out its timer here. The dest sees one 4-tuple either
// way and takes a new SYN on a closed one; so, as IPVS gives a key to the
// newer connection, the finished one is freed (counted as reused, the
// rule of a SYN on a TIME_WAIT connection). A connection still open keeps
// its key, and the new one is refused.
static bool free_finished_holder(WorkerCtx& ctx, const Conn& c, bool with_out_key) {
  IpvsWorker& v = *ctx.ipvs;
  Conn* old = v.conns->clashing(c, with_out_key);
  if (old == nullptr || old->proto != IPPROTO_TCP || (old->flags & kConnTemplate) ||
      !tcp_conn_reuse_resched(old->state, RTE_TCP_SYN_FLAG, kConnReuseClosed, false))
    return false;
  conn_free(v, old);
  ctx.count(Counter::conns_reused);
  return true;
}

Conn* conn_create(WorkerCtx& ctx, const ConnPlan& plan, uint8_t proto, const Tuple& t) {
  IpvsWorker& v = *ctx.ipvs;
  Conn* c = v.conns->alloc();
  if (c == nullptr) return ctx.count(Counter::drop_conn_pool_full), nullptr;
  conn_fill(*c, plan, proto, t);
  if (!conn_bind_laddr(ctx, plan, *c)) return v.conns->release(c), nullptr;
  bool replies = conn_sees_replies(plan.fwd);
  ConnInsert added = v.conns->insert(c, replies);
  // At most twice: the client key and the reply key may each have a finished holder.
  for (int i = 0; i < 2 && added == ConnInsert::kClash && free_finished_holder(ctx, *c, replies); i++)
    added = v.conns->insert(c, replies);
  if (added != ConnInsert::kOk) {
    if (conn_uses_laddr(c->fwd)) v.laddrs->release(v.conns->ext(*c).laddr_id, c->lport);
    v.conns->release(c);
    return ctx.count(added == ConnInsert::kClash ? Counter::drop_conn_clash : Counter::drop_conn_index_full), nullptr;
  }
  v.dest_stats[plan.dest_id].add(DestStat::inactive);  // a new connection is not established yet
  v.dest_stats[plan.dest_id].add(DestStat::conns);
  v.svc_stats[plan.service_id].add(ServiceStat::conns);
  v.svc_stats[plan.service_id].add(ServiceStat::live);
  conn_set_state(ctx, *c, TcpState::kNone);
  v.wheel->arm(&c->timer, v.now_tick + c->timeout_ticks);
  ctx.count(Counter::conns_created);
  return c;
}

void conn_free(IpvsWorker& v, Conn* c) {
  v.wheel->disarm(&c->timer);  // a no-op for what the wheel has just expired
  if (c->flags & kConnTemplate) {
    v.dest_stats[c->dest_id].sub(DestStat::persistent);
  } else {
    v.dest_stats[c->dest_id].sub(tcp_state_active(c->state) ? DestStat::active : DestStat::inactive);
    v.svc_stats[c->service_id].sub(ServiceStat::live);
    ConnExt& x = v.conns->ext(*c);
    if (x.tmpl != nullptr) v.conns->ext(*x.tmpl).controlled--;
    if (conn_uses_laddr(c->fwd)) v.laddrs->release(x.laddr_id, c->lport);
    if (c->flags & kConnSynproxy) synproxy_release(v, *c);
  }
  v.conns->remove(c);
}

void ipvs_lookup_burst(WorkerCtx& ctx, rte_mbuf** pkts, const PacketMeta* meta, uint16_t n,
                       ConnHit* hits) {
  IpvsWorker& v = *ctx.ipvs;
  ConnTuple tuples[kBurst];
  uint16_t index[kBurst];
  uint16_t k = 0;
  for (uint16_t i = 0; i < n; i++) {
    hits[i] = ConnHit{nullptr, false};
    if (meta[i].kind != PacketKind::kIpv4) continue;
    if (meta[i].l4_proto != IPPROTO_TCP && meta[i].l4_proto != IPPROTO_UDP) continue;
    Tuple t = tuple_of(pkts[i], meta[i]);
    tuples[k] = ConnTuple{meta[i].l4_proto, t.saddr, t.daddr, t.sport, t.dport};
    index[k++] = i;
  }
  ConnHit found[kBurst];
  if (k > 0) v.conns->lookup_bulk(tuples, k, found);
  for (uint16_t j = 0; j < k; j++) {
    hits[index[j]] = found[j];
    if (found[j].conn != nullptr) rte_prefetch0(found[j].conn);
  }
  v.burst_changes = v.conns->changes();
}

bool ipvs_in(WorkerCtx& ctx, rte_mbuf* m, const PacketMeta& meta, const ConnHit* pre) {
  if (ctx.ipvs == nullptr) return false;
  if (meta.l4_proto == IPPROTO_ICMP) return ipvs_icmp_error(ctx, m, meta) || snat_icmp_echo(ctx, m, meta);
  if (meta.l4_proto != IPPROTO_TCP && meta.l4_proto != IPPROTO_UDP) return false;
  IpvsWorker& v = *ctx.ipvs;
  Tuple t = tuple_of(m, meta);
  uint8_t flags = tcp_flags_of(m, meta);
  ConnHit hit = pre != nullptr && v.burst_changes == v.conns->changes()
                    ? *pre
                    : v.conns->lookup(meta.l4_proto, t.saddr, t.sport, t.daddr, t.dport);
  // A new connection on an old one's key (supersede.cpp). Only a SYN or a
  // UDP datagram can be one: the rest of a TCP flow skips the call.
  if (hit.conn != nullptr && ((flags & kTcpSyn) != 0 || meta.l4_proto == IPPROTO_UDP)) {
    Superseded now = conn_supersede(ctx, hit, meta.l4_proto, t, flags);
    if (now.drop) return rte_pktmbuf_free(m), true;
    hit = now.hit;
  }
  if (hit.conn != nullptr && dest_gone(ctx, *hit.conn)) {
    conn_free(v, hit.conn);
    ctx.count(Counter::conns_expired_nodest);
    return ctx.drop(m, Counter::drop_no_dest), true;
  }
  if (hit.conn != nullptr) return conn_packet(ctx, hit, m, meta, flags), true;
  const Service* s = ctx.snap->services ? v.svc_memo.find(*ctx.snap->services, meta.l4_proto, t.daddr, t.dport) : nullptr;
  if (s == nullptr) return !ctx.snap->snat.empty() && snat_in(ctx, m, meta, t, flags);
  if (s->synproxy && meta.l4_proto == IPPROTO_TCP) return synproxy_in(ctx, *s, m, meta, t, flags), true;
  if (meta.l4_proto == IPPROTO_TCP && !tcp_is_syn_only(flags)) return ctx.drop(m, Counter::drop_no_conn), true;
  Conn* c = conn_schedule(ctx, *s, meta.l4_proto, t);
  if (c == nullptr) return rte_pktmbuf_free(m), true;
  conn_packet(ctx, ConnHit{c, false}, m, meta, flags);
  return true;
}

void ipvs_expire(WorkerCtx& ctx) {
  IpvsWorker& v = *ctx.ipvs;
  v.wheel->advance(v.now_tick, [&](TimerNode* n) {
    Conn* c = conn_of(n);
    if ((c->flags & kConnSynproxy) && synproxy_expired(ctx, *c)) return;
    bool is_template = (c->flags & kConnTemplate) != 0;
    if (is_template && !persist_expired(v, *c)) return;
    // Never answered: the other passive health signal.
    if (!is_template && (c->state == TcpState::kSynRecv || c->state == TcpState::kSynSent))
      v.dest_stats[c->dest_id].add(DestStat::syn_timeouts);
    conn_free(v, c);
    if (!is_template) ctx.count(Counter::conns_expired);
  }, kExpireBudget);
}

static bool conn_matches(const Conn& c, const ConnFilter& f) {
  return (f.service_id == UINT32_MAX || c.service_id == f.service_id) &&
         (f.dest_id == UINT32_MAX || c.dest_id == f.dest_id) &&
         ((c.caddr & f.cmask) == (f.caddr & f.cmask)) &&
         (f.state < 0 || uint8_t(f.state) == uint8_t(c.state)) &&
         (f.templates < 0 || f.templates == ((c.flags & kConnTemplate) ? 1 : 0));
}

std::vector<ConnInfo> ipvs_dump(const IpvsWorker& v, const ConnFilter& f) {
  std::vector<ConnInfo> rows;
  v.conns->for_each([&](const Conn& c) {
    if (rows.size() >= f.limit || !conn_matches(c, f)) return;
    uint64_t left = c.timer.expires > v.now_tick ? (c.timer.expires - v.now_tick) * v.cfg.tick_ms : 0;
    rows.push_back(ConnInfo{c.proto, uint8_t(c.state), (c.flags & kConnTemplate) != 0, c.caddr, c.vaddr,
                            c.daddr, c.cport, c.vport, c.dport, c.service_id, c.dest_id, uint32_t(left),
                            c.laddr, c.lport, uint8_t(v.worker)});
  });
  return rows;
}

}  // namespace fulcrum
