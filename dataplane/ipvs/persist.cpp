// SPDX-License-Identifier: Apache-2.0
//
// Persistence (LVS templates). A persistent service sends every new
// connection of a client (its address under the service's netmask) to the
// same dest for as long as the template lives:
//
//   normal service      <proto, caddr & mask, 0, vaddr, vport> -> dest
//   port-zero service   <proto, caddr & mask, 0, vaddr, 0>     -> dest
//   FTP service (21)    <proto, caddr & mask, 0, vaddr, 0>     -> dest
//   service group       <0, caddr & mask, 0, service id, 0>    -> dest
//
// The FTP key is the port-zero one, as in LVS: with a persistent FTP
// service and a persistent port-zero service on one VIP, the data
// connections (to any port, taken by the port-zero service) find the
// template the control connection made and go to the same real server.
// A template made by the other service of such a pair leads to this
// service's dest with the same address.
//
// (The group's key holds the service id where LVS holds the firewall
// mark: one template for every endpoint of the group.)
//
// A template lives for the persistence timeout after the last connection
// made from it, and longer while connections still refer to it. A template
// whose dest can no longer take connections (removed, quiesced, inhibited
// or overloaded) is dropped and the client scheduled afresh, as LVS's
// ip_vs_check_template does.
#include <rte_byteorder.h>

#include "ipvs/ipvs_internal.hpp"

namespace fulcrum {
namespace {

// The <proto, vaddr, vport> part of the service's template key.
struct TemplateKey {
  uint8_t proto;
  uint32_t vaddr;
  uint16_t vport;
};

constexpr uint16_t kFtpPort = 21;

TemplateKey template_key(const Service& s, uint8_t proto) {
  if (!s.extra.empty()) return TemplateKey{0, s.id, 0};
  if (s.vport == rte_cpu_to_be_16(kFtpPort)) return TemplateKey{proto, s.vip, 0};
  return TemplateKey{proto, s.vip, s.vport};
}

// The dest of s a template leads to: its own, or for a template another
// service made (FTP control and port-zero data), the one at its address.
const Dest* template_dest(const Service& s, const Conn& t) {
  if (t.service_id == s.id) return find_dest(s, t.dest_id);
  for (const Dest& d : s.dests)
    if (d.ip == t.daddr) return &d;
  return nullptr;
}

uint32_t persist_ticks(const IpvsWorker& v, const Service& s) {
  return (s.persist_ms + v.cfg.tick_ms - 1) / v.cfg.tick_ms;
}

// The template is no longer found; it is freed once no connection refers
// to it (persist_expired).
void invalidate(IpvsWorker& v, Conn& t) { v.conns->unindex(&t); }

Conn* template_new(WorkerCtx& ctx, const Service& s, uint8_t proto, uint32_t caddr_masked,
                   const Dest& d) {
  IpvsWorker& v = *ctx.ipvs;
  Conn* t = v.conns->alloc();
  if (t == nullptr) return ctx.count(Counter::drop_conn_pool_full), nullptr;
  TemplateKey k = template_key(s, proto);
  t->proto = k.proto;
  t->flags = kConnTemplate;
  t->caddr = caddr_masked;
  t->vaddr = k.vaddr;
  t->vport = k.vport;
  t->daddr = d.ip;
  t->dport = d.port;
  t->service_id = uint16_t(s.id);
  t->dest_id = d.id;
  t->timeout_ticks = persist_ticks(v, s);
  if (v.conns->insert(t, false) != ConnInsert::kOk) {
    v.conns->release(t);
    return ctx.count(Counter::drop_conn_index_full), nullptr;
  }
  v.dest_stats[d.id].add(DestStat::persistent);
  v.wheel->arm(&t->timer, v.now_tick + t->timeout_ticks);
  return t;
}

// The client's template if it still leads to a usable dest of s.
Conn* template_find(IpvsWorker& v, const Service& s, uint8_t proto, uint32_t caddr_masked,
                    int32_t& idx) {
  TemplateKey k = template_key(s, proto);
  Conn* t = v.conns->lookup_template(k.proto, caddr_masked, k.vaddr, k.vport);
  if (t == nullptr) return nullptr;
  const Dest* d = template_dest(s, *t);
  if (d == nullptr || !dest_usable(v, *d)) {
    invalidate(v, *t);
    return nullptr;
  }
  idx = int32_t(d - s.dests.data());
  return t;
}

}  // namespace

int32_t persist_pick(WorkerCtx& ctx, const Service& s, uint8_t proto, const Tuple& t, Conn*& tmpl) {
  IpvsWorker& v = *ctx.ipvs;
  uint32_t caddr_masked = t.saddr & s.persist_mask;
  int32_t idx = -1;
  tmpl = template_find(v, s, proto, caddr_masked, idx);
  if (tmpl != nullptr) return idx;
  idx = schedule(ctx, s, proto, t);
  if (idx < 0) return -1;
  tmpl = template_new(ctx, s, proto, caddr_masked, s.dests[size_t(idx)]);
  return tmpl != nullptr ? idx : -2;
}

void persist_bind(WorkerCtx& ctx, const Service& s, Conn& c, Conn& t) {
  IpvsWorker& v = *ctx.ipvs;
  v.conns->ext(c).tmpl = &t;
  v.conns->ext(t).controlled++;
  t.timeout_ticks = persist_ticks(v, s);  // the service's timeout may have changed
  v.wheel->refresh(&t.timer, v.now_tick + t.timeout_ticks);
}

bool persist_expired(IpvsWorker& v, Conn& t) {
  if (v.conns->ext(t).controlled == 0) return true;
  v.wheel->arm(&t.timer, v.now_tick + t.timeout_ticks);
  return false;
}

}  // namespace fulcrum
