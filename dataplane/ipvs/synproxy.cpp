// SPDX-License-Identifier: Apache-2.0
//
// The SYN proxy's handshake with the client: SYN -> cookie SYN-ACK, and the
// ACK that opens the connection to the dest. What happens to the
// connection after that is in synproxy_conn.cpp.
#include "ipvs/synproxy.hpp"

#include <netinet/in.h>

#include <rte_ip.h>
#include <rte_tcp.h>

#include "ipvs/ipvs_internal.hpp"
#include "ipvs/synproxy_opts.hpp"
#include "net/output.hpp"
#include "net/tcp_build.hpp"
#include "xmit/xmit.hpp"

namespace fulcrum {
namespace {

// The MSS we announce: FULLNAT services that tell the dest who the client
// is make the client's segments longer by as much.
uint16_t announced_mss(const SynproxyConfig& cfg, const Service& s) {
  if (s.laddrs.empty() || s.client_addr == ClientAddr::kNone) return cfg.mss;
  return uint16_t(cfg.mss - (s.client_addr == ClientAddr::kToa ? 8 : 28));
}

// What the client offered, as far as we agree to it.
SynOptions negotiated(const SynproxyConfig& cfg, const SeenOptions& seen) {
  SynOptions o;
  o.mss = seen.mss != 0 ? seen.mss : 536;
  o.wscale = seen.wscale;
  o.sack = seen.sack && cfg.sack;
  o.timestamps = seen.has_ts && cfg.timestamps;
  return o;
}

// Queues the SYN's answer (synproxy_answer_syns makes it).
void answer_syn(WorkerCtx& ctx, const Service& s, rte_mbuf* m, const PacketMeta& meta, const Tuple& t) {
  IpvsWorker& v = *ctx.ipvs;
  SynAnswers& a = v.syn_answers;
  if (a.n == kCookieBatch) synproxy_answer_syns(ctx);  // more SYNs than a burst holds: not from the pipeline
  auto* tcp = rte_pktmbuf_mtod_offset(m, rte_tcp_hdr*, meta.l4_off);
  SeenOptions seen = seen_options(tcp, tcp_hdr_contiguous(m, meta.l4_off));
  uint32_t i = a.n++;
  a.m[i] = m;
  a.flow[i] = CookieFlow{t.saddr, t.daddr, t.sport, t.dport, rte_be_to_cpu_32(tcp->sent_seq)};
  a.opts[i] = negotiated(v.cfg.synproxy, seen);
  a.tsval[i] = seen.tsval;
  a.mss[i] = announced_mss(v.cfg.synproxy, s);
}

// Answer i of the queue, with its cookie.
void send_syn_ack(WorkerCtx& ctx, const SynAnswers& a, uint32_t i, uint32_t cookie) {
  IpvsWorker& v = *ctx.ipvs;
  const SynproxyConfig& cfg = v.cfg.synproxy;
  const CookieFlow& f = a.flow[i];
  const SynOptions& o = a.opts[i];
  // The cookie carries the MSS rounded down; the options we answer with
  // are ours.
  OptionWriter w;
  w.mss(a.mss[i]);
  w.sack_ts(o.sack, o.timestamps, uint32_t(v.now_ms), a.tsval[i]);
  if (o.wscale != kNoWscale) w.wscale(cfg.wscale);
  TcpSegment syn_ack{f.daddr, f.saddr, f.dport, f.sport, cookie, f.client_isn + 1, kTcpSyn | kTcpAck, 65535, cfg.ttl,
                     w.words(), w.size()};
  PacketMeta out_meta;
  rte_mbuf* out = a.m[i];
  if (tcp_reusable(out)) {
    tcp_write(out, syn_ack, out_meta);
  } else {
    rte_pktmbuf_free(out);
    out = tcp_build(ctx.pool, syn_ack, out_meta);
    if (out == nullptr) return ctx.count(Counter::drop_no_mbuf);
  }
  ctx.count(Counter::synproxy_syn_cookies);
  ip_output(ctx, out);
}

// The client's ACK of our SYN-ACK: when its cookie checks, the connection is
// scheduled and made, and the dest gets a SYN with the client's options.
void open_on_ack(WorkerCtx& ctx, const Service& s, rte_mbuf* m, const PacketMeta& meta, const Tuple& t) {
  IpvsWorker& v = *ctx.ipvs;
  auto* tcp = rte_pktmbuf_mtod_offset(m, rte_tcp_hdr*, meta.l4_off);
  uint16_t hlen = tcp_header_len(tcp);
  uint32_t isn = rte_be_to_cpu_32(tcp->sent_seq) - 1;
  uint32_t cookie = rte_be_to_cpu_32(tcp->recv_ack) - 1;
  SynOptions o;
  if (!cookie_check(v.cfg.synproxy.key, CookieFlow{t.saddr, t.daddr, t.sport, t.dport, isn}, cookie, v.now_ms, o))
    return ctx.drop(m, Counter::synproxy_ack_bad);
  void* obj;
  // No pool: a snapshot never has a synproxy service then (build_service refuses it).
  if (v.sp_pool == nullptr || rte_mempool_get(v.sp_pool, &obj) != 0) return ctx.drop(m, Counter::synproxy_state_full);
  Conn* c = conn_schedule(ctx, s, IPPROTO_TCP, t);
  if (c == nullptr) return rte_mempool_put(v.sp_pool, obj), rte_pktmbuf_free(m);
  SeenOptions seen = seen_options(tcp, tcp_hdr_contiguous(m, meta.l4_off));
  auto* sp = static_cast<SynproxyState*>(obj);
  *sp = SynproxyState{};
  sp->client_isn = isn;
  sp->cookie = cookie;
  sp->our_tsval = seen.tsecr;
  sp->client_tsval = seen.tsval;
  sp->client_win = rte_be_to_cpu_16(tcp->rx_win);
  sp->opts = o;
  v.conns->ext(*c).sp = sp;
  c->flags |= kConnSynproxy;
  ctx.count(Counter::synproxy_ack_ok);
  synproxy_wait_dest(ctx, *c);
  // Data riding on the ACK waits for the dest like any early data.
  if (meta.l4_len > hlen) sp->hold[sp->held++] = m;
  else rte_pktmbuf_free(m);
}

}  // namespace

void synproxy_answer_syns(WorkerCtx& ctx) {
  IpvsWorker& v = *ctx.ipvs;
  SynAnswers& a = v.syn_answers;
  if (a.n == 0) return;
  uint32_t cookies[kCookieBatch];
  cookie_make_n(v.cfg.synproxy.key, a.flow, a.opts, a.n, v.now_ms, cookies);
  for (uint32_t i = 0; i < a.n; i++) send_syn_ack(ctx, a, i, cookies[i]);
  a.n = 0;
}

void synproxy_in(WorkerCtx& ctx, const Service& s, rte_mbuf* m, const PacketMeta& meta, const Tuple& t,
                 uint8_t flags) {
  if (tcp_is_syn_only(flags)) return answer_syn(ctx, s, m, meta, t);
  if ((flags & (kTcpSyn | kTcpAck | kTcpRst | kTcpFin)) == kTcpAck) return open_on_ack(ctx, s, m, meta, t);
  ctx.drop(m, Counter::synproxy_stray);
}

}  // namespace fulcrum
