// SPDX-License-Identifier: Apache-2.0
//
// cps: new connections per second per worker. It drives the real code with
// no port (as the golden tests do): process_burst() on a hand-filled
// WorkerCtx.
//
//   cps [--sched wrr|mh] [--seconds S]
//       Batches of 32 new TCP flows from distinct clients to a NAT service
//       (10.0.0.100:80, 8 dests) go through the whole lifecycle, one burst
//       per step: SYN, SYN-ACK, ACK with a request, the response, the
//       client's FIN, the dest's FIN-ACK, the last ACK; the IPVS clock then
//       moves on 10 ms and expired connections (TIME_WAIT, 120 s) are
//       freed, so the table holds ~384k connections in steady state. Only
//       the dataplane's cycles are counted (process_burst and ipvs_expire),
//       not making the frames. Reference, same harness, same run: ICMP
//       echo to an owned address through process_burst, in cycles per
//       packet; a connection is 7 packets.
//
// (The connection table at scale is bench/scale.cpp.) The last line is
// machine-readable ("RESULT cps ..."). Exit status 0 measured and sane, 1 checks failed, 2 start-up.

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "ctrl/snapshot_build.hpp"
#include "engine/pipeline.hpp"
#include "engine/worker_ctx.hpp"
#include "frames.hpp"
#include "ipvs/ipvs.hpp"

namespace {

using namespace fulcrum;
using namespace fulcrum::bench;

constexpr uint8_t kWanMac[6] = {0x02, 0, 0, 0, 0, 0x01};
constexpr uint8_t kLanMac[6] = {0x02, 0, 0, 0, 1, 0x01};
constexpr uint8_t kRouterMac[6] = {0x02, 0xee, 0, 0, 0, 0x01};
constexpr uint32_t kDests = 8;
constexpr uint16_t kBatch = 32;
constexpr uint32_t kStepsPerConn = 7;
constexpr uint64_t kTickMs = 10;  // virtual time per batch

uint32_t be(const char* s) { return inet_addr(s); }
uint32_t dest_ip(uint32_t k) { return htonl(0x0a00010bu + k); }  // 10.0.1.11 + k
rte_ether_addr dest_mac(uint32_t k) { return rte_ether_addr{{0x02, 0xdd, 0, 0, 1, uint8_t(11 + k)}}; }
rte_ether_addr ether(const uint8_t* m) {
  rte_ether_addr a;
  std::memcpy(a.addr_bytes, m, 6);
  return a;
}

struct Harness {
  rte_mempool* pool = nullptr;
  LcoreCounters ctr{};
  std::unique_ptr<NeighTable> neigh;
  std::unique_ptr<Snapshot> snap;
  std::vector<DestStats> drows;
  std::vector<ServiceStats> srows;
  std::vector<LaddrStats> lrows;
  std::unique_ptr<IpvsWorker> ipvs;
  WorkerCtx ctx;
  uint64_t vtsc = 0;  // the IPVS clock, virtual
};

SnapshotSpec spec_for(const std::string& sched) {
  SnapshotSpec spec;
  spec.addresses = {{be("10.0.0.2"), 24, 0}, {be("10.0.1.2"), 24, 1}};
  spec.routes = {{0, 0, 0, be("10.0.0.1")}};  // clients behind the router
  ServiceSpec s{};
  s.id = 0;
  s.proto = IPPROTO_TCP;
  s.vip = be("10.0.0.100");
  s.vport = htons(80);
  s.scheduler = sched;
  s.sched_opts.mh_table_size = 65537;
  for (uint32_t k = 0; k < kDests; k++)
    s.dests.push_back(DestSpec{k, dest_ip(k), htons(8080), FwdMode::kNat, 1 + k % 3, 0, 0, true});
  spec.services.push_back(std::move(s));
  return spec;
}

bool make_harness(Harness& h, const std::string& sched, uint32_t max_conns, std::string& err) {
  h.pool = rte_pktmbuf_pool_create("cps_pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, int(rte_socket_id()));
  if (h.pool == nullptr) return err = "mbuf pool", false;
  NeighConfig nc;
  nc.reachable_tsc = uint64_t(1) << 62;
  h.neigh = NeighTable::create(nc, "cps_neigh", int(rte_socket_id()), err);
  if (!h.neigh) return false;
  rte_mbuf* released[8];
  h.neigh->learn(0, be("10.0.0.1"), ether(kRouterMac), true, rte_rdtsc(), released, 8);
  for (uint32_t k = 0; k < kDests; k++) h.neigh->learn(1, dest_ip(k), dest_mac(k), true, rte_rdtsc(), released, 8);
  h.snap = build_snapshot(spec_for(sched), nullptr, 1, SnapshotLimits{2, 4, 16, 4}, err);
  if (!h.snap) return false;
  IpvsConfig cfg{.max_conns = max_conns, .max_services = 4, .max_dests = 16, .max_laddrs = 4};
  h.drows.assign(cfg.max_dests, DestStats{});
  h.srows.assign(cfg.max_services, ServiceStats{});
  h.lrows.assign(cfg.max_laddrs, LaddrStats{});
  h.ipvs = IpvsWorker::create(0, 1, cfg, h.drows.data(), h.srows.data(), h.lrows.data(), err);
  if (!h.ipvs) return false;
  h.ipvs->all_dest_stats = {h.drows.data()};
  h.ctx.nports = 2;
  h.ctx.ports[0] = {ether(kWanMac), 1500};
  h.ctx.ports[1] = {ether(kLanMac), 1500};
  h.ctx.ctr = &h.ctr;
  h.ctx.neigh = h.neigh.get();
  h.ctx.pool = h.pool;
  h.ctx.snap = h.snap.get();
  h.ctx.now = rte_rdtsc();
  h.ctx.ipvs = h.ipvs.get();
  h.vtsc = rte_rdtsc();  // where the wheel started; from here on time is virtual
  h.ipvs->tick(h.vtsc);
  return true;
}

// Runs one burst through the dataplane; returns its cycles. The frames
// sent are left in ctx.tx for the caller.
uint64_t timed_burst(Harness& h, uint16_t port, const std::vector<Frame>& frames) {
  rte_mbuf* pkts[kBatch];
  uint16_t n = 0;
  for (const Frame& f : frames) {
    rte_mbuf* m = rte_pktmbuf_alloc(h.pool);
    if (m == nullptr) return 0;
    std::memcpy(rte_pktmbuf_append(m, uint16_t(f.size())), f.data(), f.size());
    pkts[n++] = m;
  }
  uint64_t t0 = rte_rdtsc_precise();
  process_burst(h.ctx, port, pkts, n);
  return rte_rdtsc_precise() - t0;
}

// Frees what the burst sent, after noting the destination of each frame
// (for the replies of the dests the scheduler chose). Returns the count.
uint32_t drain(Harness& h, uint16_t port, std::vector<uint32_t>* daddrs) {
  uint32_t n = h.ctx.tx.n[port];
  for (uint32_t i = 0; i < n; i++) {
    rte_mbuf* m = h.ctx.tx.pkts[port][i];
    if (daddrs != nullptr) daddrs->push_back(*rte_pktmbuf_mtod_offset(m, const uint32_t*, 14 + 16));
    rte_pktmbuf_free(m);
  }
  h.ctx.tx.n[port] = 0;
  return n;
}

struct Flow {
  uint32_t caddr;
  uint16_t cport;
  uint32_t daddr = 0;
};

// One step of the lifecycle for the batch: who sends, which flags, data.
struct Step {
  bool from_client;
  uint8_t flags;
  uint32_t payload;
};
constexpr Step kSteps[kStepsPerConn] = {
    {true, kSyn, 0},         {false, kSyn | kAck, 0}, {true, kPsh | kAck, 6}, {false, kPsh | kAck, 6},
    {true, kFin | kAck, 0}, {false, kFin | kAck, 0}, {true, kAck, 0}};

Frame step_frame(const Flow& f, const Step& s, uint16_t id) {
  uint32_t vip = be("10.0.0.100");
  if (s.from_client) return tcp_frame(TcpSeg{kRouterMac, f.caddr, vip, ntohs(f.cport), 80, s.flags, 1000, 2000, s.payload, id}, kWanMac);
  uint32_t k = ntohl(f.daddr) - 0x0a00010bu;
  rte_ether_addr m = dest_mac(k);
  return tcp_frame(TcpSeg{m.addr_bytes, f.daddr, f.caddr, 8080, ntohs(f.cport), s.flags, 5000, 2000, s.payload, id}, kLanMac);
}

// Echo through the same harness: cycles per packet.
double echo_cycles(Harness& h, uint32_t rounds) {
  std::vector<Frame> frames;
  for (uint16_t i = 0; i < kBatch; i++) {
    Frame f = tcp_frame(TcpSeg{kRouterMac, be("10.0.0.1"), be("10.0.0.2"), 1, 1, 0, 0, 0, 0, i}, kWanMac);
    uint8_t* ip = &f[14];
    ip[9] = IPPROTO_ICMP;
    ip[10] = ip[11] = 0;
    put16(ip + 10, inet_csum(ip, 20));
    uint8_t* icmp = ip + 20;
    std::memset(icmp, 0, 26);
    icmp[0] = 8;
    put16(icmp + 4, i);
    put16(icmp + 2, inet_csum(icmp, 26));
    frames.push_back(f);
  }
  uint64_t cycles = 0, sent = 0;
  for (uint32_t r = 0; r < rounds; r++) {
    cycles += timed_burst(h, 0, frames);
    sent += drain(h, 0, nullptr);
  }
  if (sent != uint64_t(rounds) * kBatch) return -1;
  return double(cycles) / double(sent);
}

int run_cps(const std::string& sched, double seconds) {
  Harness h;
  std::string err;
  if (!make_harness(h, sched, 1u << 19, err)) return std::fprintf(stderr, "cps: %s\n", err.c_str()), 2;
  double echo = echo_cycles(h, 20000);
  uint64_t hz = rte_get_tsc_hz(), cycles = 0, conns = 0, batch = 0, bad = 0;
  uint64_t deadline = rte_rdtsc() + uint64_t(seconds * double(hz));
  std::vector<Flow> flows(kBatch);
  std::vector<Frame> frames;
  while (rte_rdtsc() < deadline) {
    for (uint16_t i = 0; i < kBatch; i++) {
      uint64_t f = batch * kBatch + i;
      flows[i] = Flow{htonl(0xac100000u + uint32_t(f & 0xfffff)), htons(uint16_t(1024 + (f >> 20) % 60000))};
    }
    for (uint32_t s = 0; s < kStepsPerConn; s++) {
      frames.clear();
      for (uint16_t i = 0; i < kBatch; i++) frames.push_back(step_frame(flows[i], kSteps[s], uint16_t(i)));
      uint16_t in = kSteps[s].from_client ? 0 : 1, out = kSteps[s].from_client ? 1 : 0;
      cycles += timed_burst(h, in, frames);
      std::vector<uint32_t> daddrs;
      uint32_t sent = drain(h, out, s == 0 ? &daddrs : nullptr);
      if (sent != kBatch) bad++;
      if (s == 0)
        for (uint16_t i = 0; i < kBatch && i < daddrs.size(); i++) flows[i].daddr = daddrs[i];
    }
    h.vtsc += h.ipvs->tsc_per_ms * kTickMs;
    h.ipvs->tick(h.vtsc);
    uint64_t t0 = rte_rdtsc_precise();
    ipvs_expire(h.ctx);
    cycles += rte_rdtsc_precise() - t0;
    conns += kBatch;
    batch++;
  }
  uint64_t created = h.ctr.get(Counter::conns_created), expired = h.ctr.get(Counter::conns_expired);
  double per_conn = double(cycles) / double(conns);
  double cps = double(hz) / per_conn;
  std::printf("cps: scheduler %s, %" PRIu64 " connections in %.1f s of wall time, %u live at the end "
              "(%" PRIu64 " expired)\n", sched.c_str(), conns, seconds, h.ipvs->conns->size(), expired);
  std::printf("cps: %.0f cycles per connection (7 packets + its expiry), %.0f per packet; "
              "echo reference %.0f cycles per packet\n", per_conn, per_conn / kStepsPerConn, echo);
  std::printf("cps: %.3f M new connections/s per worker at %.2f GHz (%.2f x the echo packet rate / 7)\n",
              cps / 1e6, double(hz) / 1e9, echo * kStepsPerConn / per_conn);
  bool ok = bad == 0 && created == conns && expired > 0;
  if (!ok)
    std::fprintf(stderr, "cps: checks failed: %" PRIu64 " short bursts, %" PRIu64 " created for %" PRIu64 " flows\n", bad,
                 created, conns);
  std::printf("RESULT cps sched=%s mcps=%.3f cycles_per_conn=%.0f echo_cycles=%.0f ok=%d\n", sched.c_str(), cps / 1e6,
              per_conn, echo, ok ? 1 : 0);
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string sched = "wrr";
  double seconds = 3;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--sched" && i + 1 < argc) sched = argv[++i];
    else if (a == "--seconds" && i + 1 < argc) seconds = std::atof(argv[++i]);
    else return std::fprintf(stderr, "usage: cps [--sched wrr|mh] [--seconds S]\n"), 2;
  }
  char* eal[] = {argv[0], (char*)"-l", (char*)"0", (char*)"--in-memory", (char*)"--no-pci", (char*)"--log-level=error"};
  if (rte_eal_init(6, eal) < 0) return std::fprintf(stderr, "cps: EAL did not start (hugepages?)\n"), 2;
  int rc = run_cps(sched, seconds);
  rte_eal_cleanup();
  return rc;
}
