// SPDX-License-Identifier: Apache-2.0
#include "xmit/client_addr.hpp"

#include <cstring>

#include <rte_tcp.h>

#include "ipvs/ipvs.hpp"
#include "ipvs/proto_tcp.hpp"
#include "ipvs/service.hpp"
#include "xmit/tcp_grow.hpp"
#include "xmit/tcp_opts.hpp"

namespace fulcrum {
namespace {

constexpr uint8_t kToaKind = 254;
constexpr uint16_t kMaxTcpHdr = 60;
constexpr uint8_t kProxySig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
constexpr uint8_t kProxyV2Proxy = 0x21;     // version 2, command PROXY
constexpr uint8_t kProxyTcp4 = 0x11;        // AF_INET, STREAM
constexpr uint16_t kProxyAddrLen = 12;      // two IPv4 addresses, two ports

rte_tcp_hdr* tcp_of(rte_mbuf* m, const PacketMeta& meta) {
  return rte_pktmbuf_mtod_offset(m, rte_tcp_hdr*, meta.l4_off);
}

void add_toa(WorkerCtx& ctx, const Conn& c, rte_mbuf* m, PacketMeta& meta) {
  uint16_t hlen = tcp_hdr_len(m, meta);
  if (hlen + kToaLen > kMaxTcpHdr || !tcp_grow_fits(ctx, m, meta, c.daddr, kToaLen))
    return ctx.count(Counter::toa_no_room);
  uint8_t opt[kToaLen] = {kToaKind, kToaLen};
  std::memcpy(opt + 2, &c.cport, 2);
  std::memcpy(opt + 4, &c.caddr, 4);
  rte_tcp_hdr* tcp = tcp_of(m, meta);
  uint8_t data_off = tcp->data_off;
  tcp->data_off = uint8_t(data_off + ((kToaLen / 4) << 4));
  if (!tcp_grow(m, meta, hlen, opt, kToaLen)) {
    tcp_of(m, meta)->data_off = data_off;
    return ctx.count(Counter::toa_no_room);
  }
  ctx.count(Counter::toa_added);
}

void toa_in(WorkerCtx& ctx, Conn& c, rte_mbuf* m, PacketMeta& meta, uint8_t flags, uint16_t payload) {
  if (payload == 0) {
    // The handshake's ACK: an ACK with nothing else, the first of them.
    if (flags != kTcpAck || (c.fnat & kFnatToaAck)) return;
    c.fnat |= kFnatToaAck;
  } else {
    if (c.fnat & kFnatToaData) return;
    c.fnat |= kFnatToaAck | kFnatToaData;
  }
  add_toa(ctx, c, m, meta);
}

bool add_proxy_header(WorkerCtx& ctx, const Conn& c, rte_mbuf* m, PacketMeta& meta) {
  if (!tcp_grow_fits(ctx, m, meta, c.daddr, kProxyV2Len)) return ctx.drop(m, Counter::proxy_v2_no_room), false;
  uint8_t h[kProxyV2Len];
  std::memcpy(h, kProxySig, sizeof(kProxySig));
  h[12] = kProxyV2Proxy;
  h[13] = kProxyTcp4;
  h[14] = 0;
  h[15] = kProxyAddrLen;
  std::memcpy(h + 16, &c.caddr, 4);
  std::memcpy(h + 20, &c.vaddr, 4);
  std::memcpy(h + 24, &c.cport, 2);
  std::memcpy(h + 26, &c.vport, 2);
  if (!tcp_grow(m, meta, tcp_hdr_len(m, meta), h, kProxyV2Len)) return ctx.drop(m, Counter::proxy_v2_no_room), false;
  ctx.count(Counter::proxy_v2_added);
  return true;
}

bool proxy_in(WorkerCtx& ctx, Conn& c, rte_mbuf* m, PacketMeta& meta, uint16_t payload) {
  rte_tcp_hdr* tcp = tcp_of(m, meta);
  uint32_t seq = rte_be_to_cpu_32(tcp->sent_seq);
  if (!(c.fnat & kFnatProxySent)) {
    if (payload == 0) return true;
    ctx.ipvs->conns->ext(c).pp_seq = seq;
    c.fnat |= kFnatProxySent;
    return add_proxy_header(ctx, c, m, meta);
  }
  int32_t after = int32_t(seq - ctx.ipvs->conns->ext(c).pp_seq);
  if (after == 0 && payload > 0) return add_proxy_header(ctx, c, m, meta);  // a retransmission
  if (after > 0) tcp_add32(tcp, reinterpret_cast<uint8_t*>(&tcp->sent_seq), kProxyV2Len);
  return true;
}

}  // namespace

bool client_addr_in(WorkerCtx& ctx, Conn& c, rte_mbuf* m, PacketMeta& meta) {
  uint8_t flags = tcp_of(m, meta)->tcp_flags;
  if (flags & (kTcpSyn | kTcpRst)) return true;
  uint16_t payload = uint16_t(meta.l4_len - tcp_hdr_len(m, meta));
  switch (ClientAddr(c.client_addr)) {
    case ClientAddr::kToa: toa_in(ctx, c, m, meta, flags, payload); return true;
    case ClientAddr::kProxyV2: return proxy_in(ctx, c, m, meta, payload);
    case ClientAddr::kNone: return true;
  }
  return true;
}

void client_addr_out(const Conn& c, rte_mbuf* m, const PacketMeta& meta) {
  if (ClientAddr(c.client_addr) == ClientAddr::kNone) return;
  rte_tcp_hdr* tcp = tcp_of(m, meta);
  uint16_t grow = ClientAddr(c.client_addr) == ClientAddr::kToa ? kToaLen : kProxyV2Len;
  bool syn = (tcp->tcp_flags & kTcpSyn) != 0;
  bool shift = ClientAddr(c.client_addr) == ClientAddr::kProxyV2 && (c.fnat & kFnatProxySent) &&
               (tcp->tcp_flags & kTcpAck);
  if (!syn && !shift) return;
  if (shift) tcp_add32(tcp, reinterpret_cast<uint8_t*>(&tcp->recv_ack), -int32_t(kProxyV2Len));
  tcp_for_each_option(tcp, tcp_hdr_contiguous(m, meta.l4_off), [&](uint8_t kind, uint8_t* v, uint8_t len) {
    if (syn && kind == kTcpOptMss && len == 2) {
      uint16_t mss;
      std::memcpy(&mss, v, 2);
      mss = rte_be_to_cpu_16(mss);
      if (mss > grow) tcp_set16(tcp, v, uint16_t(mss - grow));
    }
    if (shift && kind == kTcpOptSack)
      for (uint8_t off = 0; off + 4 <= len; off += 4) tcp_add32(tcp, v + off, -int32_t(kProxyV2Len));
  });
}

}  // namespace fulcrum
