// SPDX-License-Identifier: Apache-2.0
#include "engine/pipeline.hpp"

#include <netinet/in.h>

#include <rte_ip.h>
#include <rte_prefetch.h>

#include "ipvs/ipvs.hpp"
#include "net/icmp.hpp"
#include "net/output.hpp"
#include "net/packet.hpp"
#include "engine/steer.hpp"

namespace fulcrum {
namespace {

constexpr uint16_t kPrefetchAhead = 4;

// IPv4 addressed to one of our own addresses.
void local_input(WorkerCtx& ctx, rte_mbuf* m, const PacketMeta& meta) {
  if (meta.l4_proto != IPPROTO_ICMP) return ctx.drop(m, Counter::drop_no_service);
  if (!icmp_is_echo_request(m, meta.l4_off)) return ctx.drop(m, Counter::drop_icmp_type);
  // A corrupt request would get an equally corrupt reply.
  if (!icmp_checksum_ok(m, meta.l4_off, meta.l4_len)) return ctx.drop(m, Counter::drop_l4_checksum);
  icmp_make_echo_reply(m, meta.l3_off, meta.l4_off, meta.l4_len);
  ctx.count(Counter::icmp_echo_replies);
  ip_output(ctx, m);
}

void ipv4_input(WorkerCtx& ctx, rte_mbuf* m, const PacketMeta& meta, const ConnHit* pre) {
  if (ipvs_in(ctx, m, meta, pre)) return;
  auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, meta.l3_off);
  if (ctx.snap->find_owned(ip->dst_addr) == nullptr) return ctx.drop(m, Counter::drop_not_ours);
  local_input(ctx, m, meta);
}

void parse_burst(WorkerCtx& ctx, rte_mbuf** pkts, PacketMeta* meta, uint16_t n, bool count_rx) {
  for (uint16_t i = 0; i < n && i < kPrefetchAhead; i++)
    rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
  for (uint16_t i = 0; i < n; i++) {
    if (i + kPrefetchAhead < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + kPrefetchAhead], void*));
    if (count_rx) ctx.count(Counter::rx_bytes, rte_pktmbuf_pkt_len(pkts[i]));
    parse_packet(pkts[i], meta[i]);
  }
  if (count_rx) ctx.count(Counter::rx_packets, n);
}

// Lookup and dispatch of a parsed burst.
void dispatch_burst(WorkerCtx& ctx, uint16_t in_port, rte_mbuf** pkts, const PacketMeta* meta, uint16_t n) {
  ConnHit hits[kBurst];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // meta[0, n) was filled above
  if (ctx.ipvs != nullptr) ipvs_lookup_burst(ctx, pkts, meta, n, hits);
#pragma GCC diagnostic pop
  for (uint16_t i = 0; i < n; i++) {
    switch (meta[i].kind) {
      case PacketKind::kArp: arp_input(ctx, in_port, pkts[i], meta[i]); break;
      case PacketKind::kIpv4: ipv4_input(ctx, pkts[i], meta[i], ctx.ipvs != nullptr ? &hits[i] : nullptr); break;
      case PacketKind::kDrop: ctx.drop(pkts[i], meta[i].drop); break;
    }
  }
  if (ctx.ipvs != nullptr) synproxy_answer_syns(ctx);
}

}  // namespace

void process_burst(WorkerCtx& ctx, uint16_t in_port, rte_mbuf** pkts, uint16_t n) {
  PacketMeta meta[kBurst];  // filled for [0, n) by the parse stage
  parse_burst(ctx, pkts, meta, n, true);
  if (ctx.redirect_to != nullptr && ctx.snap->steering()) n = steer_burst(ctx, pkts, meta, n);
  dispatch_burst(ctx, in_port, pkts, meta, n);
}

void process_redirected(WorkerCtx& ctx, rte_mbuf** pkts, uint16_t n) {
  PacketMeta meta[kBurst];
  parse_burst(ctx, pkts, meta, n, false);
  ctx.count(Counter::redirected_in, n);
  dispatch_burst(ctx, 0, pkts, meta, n);  // only IPv4 is redirected: in_port serves ARP alone
}

}  // namespace fulcrum
