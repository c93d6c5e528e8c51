// SPDX-License-Identifier: Apache-2.0
//
// A SYN-proxied connection after the client's ACK: the SYN to the dest
// (and its retries), the dest's answer, the held client data, and the
// translation of the dest's numbers for the rest of the connection.
#include <netinet/in.h>

#include <rte_ip.h>
#include <rte_tcp.h>

#include "ipvs/ipvs_internal.hpp"
#include "ipvs/synproxy.hpp"
#include "ipvs/synproxy_opts.hpp"
#include "net/output.hpp"
#include "net/tcp_build.hpp"
#include "xmit/xmit.hpp"

namespace fulcrum {
namespace {

SynproxyState& sp_of(WorkerCtx& ctx, const Conn& c) { return *ctx.ipvs->conns->ext(c).sp; }

rte_tcp_hdr* tcp_of(rte_mbuf* m, const PacketMeta& meta) {
  return rte_pktmbuf_mtod_offset(m, rte_tcp_hdr*, meta.l4_off);
}

// A segment from the client's side of c (client -> VIP), for xmit_in to
// rewrite towards the dest like the client's own.
void send_as_client(WorkerCtx& ctx, Conn& c, uint32_t seq, uint32_t ack, uint8_t flags, const OptionWriter& w) {
  const SynproxyState& sp = sp_of(ctx, c);
  TcpSegment seg{c.caddr, c.vaddr, c.cport, c.vport, seq, ack, flags, sp.client_win, 64, w.words(), w.size()};
  PacketMeta meta;
  rte_mbuf* m = tcp_build(ctx.pool, seg, meta);
  if (m == nullptr) return ctx.count(Counter::drop_no_mbuf);
  xmit_in(ctx, c, m, meta);
}

// An RST to the client from the VIP, in our numbering.
void reset_client(WorkerCtx& ctx, const Conn& c) {
  const SynproxyState& sp = sp_of(ctx, c);
  TcpSegment seg{c.vaddr, c.caddr, c.vport, c.cport, sp.cookie + 1, sp.client_isn + 1, kTcpRst | kTcpAck, 0,
                 ctx.ipvs->cfg.synproxy.ttl};
  PacketMeta meta;
  rte_mbuf* m = tcp_build(ctx.pool, seg, meta);
  if (m == nullptr) return ctx.count(Counter::drop_no_mbuf);
  ip_output(ctx, m);
}

// Client -> dest: acknowledgements and SACK blocks into the dest's
// numbers, the echoed timestamp into the dest's clock.
void translate_in(const SynproxyState& sp, rte_tcp_hdr* tcp, uint16_t opts_end) {
  if (tcp->tcp_flags & kTcpAck) tcp_add32(tcp, reinterpret_cast<uint8_t*>(&tcp->recv_ack), int32_t(sp.seq_delta));
  tcp_for_each_option(tcp, opts_end, [&](uint8_t kind, uint8_t* v, uint8_t len) {
    if (kind == kTcpOptSack)
      for (uint8_t off = 0; off + 8 <= len; off += 8) {
        tcp_add32(tcp, v + off, int32_t(sp.seq_delta));
        tcp_add32(tcp, v + off + 4, int32_t(sp.seq_delta));
      }
    if (kind == kTcpOptTimestamp && len == 8) tcp_add32(tcp, v + 4, int32_t(sp.ts_delta));
  });
}

// Dest -> client: sequence numbers into ours, its timestamps into our
// clock, its window into the scale we announced.
void translate_out(const SynproxyState& sp, uint8_t our_wscale, rte_tcp_hdr* tcp, uint16_t opts_end) {
  tcp_add32(tcp, reinterpret_cast<uint8_t*>(&tcp->sent_seq), -int32_t(sp.seq_delta));
  tcp_for_each_option(tcp, opts_end, [&](uint8_t kind, uint8_t* v, uint8_t len) {
    if (kind == kTcpOptTimestamp && len == 8) tcp_add32(tcp, v, -int32_t(sp.ts_delta));
  });
  if (sp.opts.wscale == kNoWscale || sp.dest_wscale == our_wscale) return;
  uint64_t win = uint64_t(rte_be_to_cpu_16(tcp->rx_win)) << sp.dest_wscale >> our_wscale;
  tcp_set16(tcp, reinterpret_cast<uint8_t*>(&tcp->rx_win), uint16_t(win > 0xffff ? 0xffff : win));
}

// The dest's SYN-ACK: its numbers recorded, the handshake with it
// completed on the client's behalf, the held data released.
void absorb(WorkerCtx& ctx, Conn& c, rte_mbuf* m, const PacketMeta& meta) {
  SynproxyState& sp = sp_of(ctx, c);
  rte_tcp_hdr* tcp = tcp_of(m, meta);
  uint32_t dest_isn = rte_be_to_cpu_32(tcp->sent_seq);
  SeenOptions seen = seen_options(tcp, tcp_hdr_contiguous(m, meta.l4_off));
  rte_pktmbuf_free(m);
  sp.seq_delta = dest_isn - sp.cookie;
  sp.ts_delta = seen.tsval - sp.our_tsval;
  sp.dest_wscale = seen.wscale == kNoWscale ? 0 : seen.wscale;
  sp.established = true;
  conn_set_state(ctx, c, TcpState::kEstablished);
  ctx.ipvs->wheel->arm(&c.timer, ctx.ipvs->now_tick + c.timeout_ticks);
  ctx.count(Counter::synproxy_established);
  OptionWriter w;
  if (sp.opts.timestamps) w.sack_ts(false, true, sp.client_tsval, seen.tsval);
  send_as_client(ctx, c, sp.client_isn + 1, dest_isn + 1, kTcpAck, w);
  uint8_t held = sp.held;
  sp.held = 0;
  for (uint8_t i = 0; i < held; i++) {
    PacketMeta hm;
    parse_packet(sp.hold[i], hm);
    conn_packet(ctx, ConnHit{&c, false}, sp.hold[i], hm, tcp_of(sp.hold[i], hm)->tcp_flags);
  }
}

// A client segment before the dest answered: data waits (bounded), the
// rest (repeated ACKs) is dropped.
void hold(WorkerCtx& ctx, SynproxyState& sp, rte_mbuf* m, const PacketMeta& meta) {
  if (meta.l4_len <= tcp_header_len(tcp_of(m, meta))) return ctx.drop(m, Counter::synproxy_early);
  if (sp.held >= ctx.ipvs->cfg.synproxy.hold) return ctx.drop(m, Counter::synproxy_hold_full);
  sp.hold[sp.held++] = m;
}

}  // namespace

void synproxy_wait_dest(WorkerCtx& ctx, Conn& c) {
  IpvsWorker& v = *ctx.ipvs;
  const SynproxyState& sp = sp_of(ctx, c);
  OptionWriter w;
  w.mss(sp.opts.mss);
  w.sack_ts(sp.opts.sack, sp.opts.timestamps, sp.client_tsval, 0);
  if (sp.opts.wscale != kNoWscale) w.wscale(sp.opts.wscale);
  send_as_client(ctx, c, sp.client_isn, 0, kTcpSyn, w);
  conn_set_state(ctx, c, TcpState::kSynSent);
  c.timeout_ticks = (v.cfg.synproxy.retry_ms + v.cfg.tick_ms - 1) / v.cfg.tick_ms;
  v.wheel->arm(&c.timer, v.now_tick + c.timeout_ticks);
}

bool synproxy_packet(WorkerCtx& ctx, ConnHit hit, rte_mbuf* m, const PacketMeta& meta, uint8_t flags) {
  Conn& c = *hit.conn;
  SynproxyState& sp = sp_of(ctx, c);
  rte_tcp_hdr* tcp = tcp_of(m, meta);
  if (sp.established) {
    uint16_t opts_end = tcp_hdr_contiguous(m, meta.l4_off);
    if (hit.reply) translate_out(sp, ctx.ipvs->cfg.synproxy.wscale, tcp, opts_end);
    else translate_in(sp, tcp, opts_end);
    return true;
  }
  if (!hit.reply) return hold(ctx, sp, m, meta), false;
  if ((flags & (kTcpSyn | kTcpAck)) == (kTcpSyn | kTcpAck) &&
      rte_be_to_cpu_32(tcp->recv_ack) == sp.client_isn + 1)
    return absorb(ctx, c, m, meta), false;
  if (flags & kTcpRst) {
    rte_pktmbuf_free(m);
    reset_client(ctx, c);
    ctx.count(Counter::synproxy_dest_refused);
    ctx.ipvs->dest_stats[c.dest_id].add(DestStat::resets);
    conn_free(*ctx.ipvs, &c);
    return false;
  }
  ctx.drop(m, Counter::synproxy_stray);
  return false;
}

bool synproxy_expired(WorkerCtx& ctx, Conn& c) {
  SynproxyState& sp = sp_of(ctx, c);
  if (sp.established) return false;
  if (sp.retries < ctx.ipvs->cfg.synproxy.retries) {
    sp.retries++;
    ctx.count(Counter::synproxy_syn_retries);
    synproxy_wait_dest(ctx, c);
    return true;
  }
  reset_client(ctx, c);
  ctx.count(Counter::synproxy_dest_timeout);
  return false;
}

void synproxy_release(IpvsWorker& v, Conn& c) {
  SynproxyState*& sp = v.conns->ext(c).sp;
  for (uint8_t i = 0; i < sp->held; i++) rte_pktmbuf_free(sp->hold[i]);
  rte_mempool_put(v.sp_pool, sp);
  sp = nullptr;
  c.flags &= uint8_t(~kConnSynproxy);
}

}  // namespace fulcrum
