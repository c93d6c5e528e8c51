// SPDX-License-Identifier: Apache-2.0
#include "net/output.hpp"

#include <rte_arp.h>
#include <rte_ip.h>

#include "net/arp.hpp"

namespace fulcrum {
namespace {

void ether_send(WorkerCtx& ctx, uint16_t port, rte_mbuf* m, const rte_ether_addr& dst) {
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  eth->dst_addr = dst;
  eth->src_addr = ctx.ports[port].mac;
  eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
  ctx.send(port, m);
}

void arp_send(WorkerCtx& ctx, uint16_t port, uint32_t sip, uint32_t tip, Counter what) {
  rte_mbuf* req = arp_build_request(ctx.pool, ctx.ports[port].mac, sip, tip);
  if (req == nullptr) return ctx.count(Counter::drop_no_mbuf);
  ctx.count(what);
  ctx.send(port, req);
}

void arp_ask(WorkerCtx& ctx, uint16_t port, uint32_t ip) {
  uint32_t sip = ctx.snap->source_for(port, ip);
  if (sip == 0) return;  // the port lost its addresses; entry will time out
  arp_send(ctx, port, sip, ip, Counter::arp_requests_sent);
}

// Learns ip -> mac and sends whatever was held for it.
void learn_and_release(WorkerCtx& ctx, uint16_t port, uint32_t ip, const rte_ether_addr& mac,
                       bool create) {
  rte_mbuf* released[64];
  uint16_t n = ctx.neigh->learn(port, ip, mac, create, ctx.now, released, 64);
  if (n > 0) ctx.count(Counter::neigh_released, n);
  for (uint16_t i = 0; i < n; i++) ether_send(ctx, port, released[i], mac);
}

class TickActions final : public NeighActions {
 public:
  explicit TickActions(WorkerCtx& ctx) : ctx_(ctx) {}
  void ask(uint16_t port, uint32_t ip) override { arp_ask(ctx_, port, ip); }
  void give_up(uint16_t, uint32_t, rte_mbuf* held) override {
    ctx_.drop(held, Counter::drop_neigh_failed);
  }

 private:
  WorkerCtx& ctx_;
};

}  // namespace

void ip_output(WorkerCtx& ctx, rte_mbuf* m) {
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, sizeof(rte_ether_hdr));
  ip_output_to(ctx, m, ip->dst_addr);
}

// Route, then neighbour (which may hold m and ask by ARP). A resolved next
// hop is cached under what varies least: the gateway when the route has
// one (all the clients behind it share it: a cache keyed by them would
// thrash), the target itself when it is on a connected subnet.
static void resolve_and_send(WorkerCtx& ctx, rte_mbuf* m, uint32_t target) {
  const Nexthop* nh = ctx.snap->routes ? ctx.snap->routes->lookup(target) : nullptr;
  if (nh == nullptr) return ctx.drop(m, Counter::drop_no_route);
  bool routed = nh->gateway != 0;
  uint32_t next = routed ? nh->gateway : target;
  NexthopCache& cache = routed ? ctx.gateways : ctx.targets;  // ip_output_to missed targets
  if (routed) {
    const NexthopCache::Hop* hop = cache.find(next, ctx.snap->generation, ctx.neigh->version());
    if (hop != nullptr && hop->port == nh->port) return ether_send(ctx, nh->port, m, hop->mac);
  }
  rte_ether_addr mac;
  bool ask = false;
  switch (ctx.neigh->resolve(nh->port, next, ctx.now, m, mac, ask)) {
    case NeighResult::kReady:
      cache.fill(next, nh->port, mac);
      ether_send(ctx, nh->port, m, mac);
      break;
    case NeighResult::kHeld: ctx.count(Counter::neigh_held); break;
    case NeighResult::kHoldFull: ctx.drop(m, Counter::drop_neigh_hold_full); break;
    case NeighResult::kTableFull: ctx.drop(m, Counter::neigh_table_full); break;
  }
  if (ask) arp_ask(ctx, nh->port, next);
}

void ip_output_to(WorkerCtx& ctx, rte_mbuf* m, uint32_t target) {
  const NexthopCache::Hop* hop =
      ctx.targets.find(target, ctx.snap->generation, ctx.neigh->version());
  if (hop != nullptr) return ether_send(ctx, hop->port, m, hop->mac);
  resolve_and_send(ctx, m, target);
}

void arp_input(WorkerCtx& ctx, uint16_t in_port, rte_mbuf* m, const PacketMeta& meta) {
  ArpView arp;
  if (!arp_parse(m, meta.l3_off, arp)) return ctx.drop(m, Counter::drop_arp_malformed);
  const OwnedAddress* own = ctx.snap->find_owned(arp.tip);
  bool for_us = own != nullptr && own->answers_on(in_port);
  // sip 0 is an address probe (RFC 5227), and a sender claiming one of our
  // own addresses is a conflict or our own announcement looped back:
  // nothing to learn from either, and no answer to a conflicting sender.
  bool learnable = arp.sip != 0 && ctx.snap->find_owned(arp.sip) == nullptr;
  if (learnable) {
    learn_and_release(ctx, in_port, arp.sip, arp.sha, for_us);
    if (ctx.peers != nullptr) ctx.peers->share(in_port, arp.sip, arp.sha, for_us);
    if (for_us) ctx.count(Counter::neigh_learned);
  }
  if (!for_us) return ctx.drop(m, Counter::drop_arp_not_ours);
  if (arp.op == RTE_ARP_OP_REPLY) return (void)rte_pktmbuf_free(m);  // answered our request
  if (arp.sip != 0 && !learnable) return ctx.drop(m, Counter::drop_arp_not_ours);
  arp_make_reply(m, meta.l3_off, ctx.ports[in_port].mac);
  ctx.count(Counter::arp_replies_sent);
  ctx.send(in_port, m);
}

void neigh_learn_shared(WorkerCtx& ctx, uint16_t port, uint32_t ip, const rte_ether_addr& mac,
                        bool create) {
  learn_and_release(ctx, port, ip, mac, create);
}

void neigh_tick(WorkerCtx& ctx) {
  TickActions actions(ctx);
  ctx.neigh->tick(ctx.now, actions);
}

// A gratuitous ARP for a, on its port or, for an any-port VIP, on every port.
static void announce(WorkerCtx& ctx, const OwnedAddress& a) {
  for (uint16_t p = 0; p < ctx.nports; p++)
    if (a.answers_on(p)) arp_send(ctx, p, a.ip, a.ip, Counter::garp_sent);
}

uint64_t announce_addresses(WorkerCtx& ctx, uint64_t since) {
  for (const OwnedAddress& a : ctx.snap->addresses)
    if (a.added_gen > since) announce(ctx, a);
  return ctx.snap->generation;
}

}  // namespace fulcrum
