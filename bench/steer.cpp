// SPDX-License-Identifier: Apache-2.0
//
// steer: what software steering (engine/steer.hpp) costs a packet, with a
// small and a large configuration in the same run.
//
//   steer [--services N] [--rounds R]
//
// With more than one worker and a persistent service, every received
// packet goes through steer_owner() before anything else: is it for a
// VIP (steered by client), from a NAT dest (steered by the client it goes
// to), or neither? Two snapshots are built, as the control plane builds
// them: one service (the reference), and N services (default 10,000), each
// persistent, NAT, with its own VIP and 8 dests of its own. 4096 parsed
// TCP frames of distinct flows, a third each client -> VIP, NAT dest ->
// client, and client -> an address nobody owns, spread over the services
// of the snapshot, are steered R times (default 200) for each,
// alternately, five times; the cycles per packet (TSC) of each are the
// median of the five. Only steer_owner is timed. The configuration's size should not
// show in the cost of a packet: the last line ("RESULT steer ...") gives
// both costs and their ratio. Exit status 0 measured and every packet
// went where it should, 1 a check failed, 2 start-up.

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

#include "ctrl/snapshot_build.hpp"
#include "engine/steer.hpp"
#include "engine/worker_ctx.hpp"
#include "frames.hpp"
#include "net/packet.hpp"

namespace {

using namespace fulcrum;
using namespace fulcrum::bench;

constexpr uint32_t kPackets = 4096;  // distinct flows: a branch predictor cannot learn their lookups
constexpr uint32_t kDests = 8;
constexpr uint16_t kWorkers = 2;
constexpr uint8_t kPeerMac[6] = {0x02, 0xee, 0, 0, 0, 0x01};
constexpr uint8_t kOurMac[6] = {0x02, 0, 0, 0, 0, 0x01};

// Service i's VIP is 10.64.0.0 + i, its dest k 10.128.0.0 + 8i + k; the
// clients are 172.16.0.0 + j.
uint32_t vip(uint32_t i) { return htonl(0x0a400000u + i); }
uint32_t dest(uint32_t i, uint32_t k) { return htonl(0x0a800000u + kDests * i + k); }
uint32_t client(uint32_t j) { return htonl(0xac100000u + j); }

SnapshotSpec spec_of(uint32_t services) {
  SnapshotSpec spec;
  spec.addresses = {{htonl(0x0a000002u), 8, 0}};  // 10.0.0.2/8 holds VIPs and dests
  spec.routes = {{0, 0, 0, htonl(0x0a000001u)}};
  for (uint32_t i = 0; i < services; i++) {
    ServiceSpec s{};
    s.id = i;
    s.proto = IPPROTO_TCP;
    s.vip = vip(i);
    s.vport = htons(80);
    s.scheduler = "rr";
    s.persist_ms = 300000;
    s.persist_mask = 0xffffffffu;
    for (uint32_t k = 0; k < kDests; k++)
      s.dests.push_back(DestSpec{kDests * i + k, dest(i, k), htons(8080), FwdMode::kNat, 1, 0, 0, true});
    spec.services.push_back(std::move(s));
  }
  return spec;
}

// The packets: packet p goes to (or comes from) service p * 7919 mod services.
struct Packets {
  rte_mbuf* m[kPackets] = {};
  PacketMeta meta[kPackets] = {};
  int32_t want[kPackets] = {};  // the owner steer_owner must give
};

uint32_t owner_of(uint32_t caddr) {  // client_owner() with steer_mask /32, spelled out
  return uint32_t((uint64_t(ntohl(caddr) * 2654435761u) * kWorkers) >> 32);
}

bool fill(Packets& b, rte_mempool* pool, uint32_t services) {
  for (uint32_t p = 0; p < kPackets; p++) {
    uint32_t i = uint32_t((uint64_t(p) * 7919) % services), c = client(p);
    TcpSeg seg{kPeerMac, 0, 0, uint16_t(10000 + p), 80, kAck, 1, 1, 0, uint16_t(p)};
    switch (p % 3) {
      case 0: seg.saddr = c, seg.daddr = vip(i), b.want[p] = int32_t(owner_of(c)); break;
      case 1: seg.saddr = dest(i, p % kDests), seg.daddr = c, seg.sport = 8080, seg.dport = uint16_t(10000 + p), b.want[p] = int32_t(owner_of(c)); break;
      default: seg.saddr = c, seg.daddr = htonl(0xc6120000u + p), b.want[p] = -1; break;  // 198.18.x.y
    }
    Frame f = tcp_frame(seg, kOurMac);
    b.m[p] = rte_pktmbuf_alloc(pool);
    if (b.m[p] == nullptr) return false;
    std::memcpy(rte_pktmbuf_append(b.m[p], uint16_t(f.size())), f.data(), f.size());
    if (parse_packet(b.m[p], b.meta[p]) != PacketKind::kIpv4) return false;
  }
  return true;
}

// Cycles per packet of rounds x the packets; false when a packet went astray.
bool timed(const WorkerCtx& ctx, const Packets& b, uint32_t rounds, double& cycles) {
  int64_t wrong = 0;
  uint64_t t = rte_rdtsc_precise();
  for (uint32_t r = 0; r < rounds; r++)
    for (uint32_t p = 0; p < kPackets; p++) wrong += steer_owner(ctx, b.m[p], b.meta[p]) != b.want[p];
  cycles = double(rte_rdtsc_precise() - t) / (double(rounds) * kPackets);
  return wrong == 0;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int run(uint32_t services, uint32_t rounds) {
  rte_mempool* pool = rte_pktmbuf_pool_create("steer_pool", 2 * kPackets, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, int(rte_socket_id()));
  if (pool == nullptr) return std::fprintf(stderr, "steer: no mbuf pool\n"), 2;
  const SnapshotLimits limits{1, services, services * kDests, 4};
  std::string err;
  const uint32_t sizes[2] = {1, services};
  std::unique_ptr<Snapshot> snaps[2];
  Packets packets[2];
  WorkerCtx ctx[2];
  for (int k = 0; k < 2; k++) {
    snaps[k] = build_snapshot(spec_of(sizes[k]), nullptr, uint64_t(k + 1), limits, err);  // a generation each: the route tables are named by it
    if (!snaps[k]) return std::fprintf(stderr, "steer: snapshot of %u services: %s\n", sizes[k], err.c_str()), 2;
    if (!snaps[k]->steer_clients) return std::fprintf(stderr, "steer: clients are not steered\n"), 1;
    if (!fill(packets[k], pool, sizes[k])) return std::fprintf(stderr, "steer: cannot make the burst\n"), 2;
    ctx[k].workers = kWorkers;
    ctx[k].snap = snaps[k].get();
  }
  std::vector<double> cycles[2];
  for (int rep = 0; rep < 5; rep++) {
    for (int k = 0; k < 2; k++) {
      double c = 0;
      if (!timed(ctx[k], packets[k], rounds, c))
        return std::fprintf(stderr, "steer: %u services: a packet was steered to the wrong worker\n", sizes[k]), 1;
      cycles[k].push_back(c);
    }
  }
  double small = median(cycles[0]), large = median(cycles[1]);
  std::printf("steer: %u service: %.1f cycles per packet; %u services (%u VIPs, %u NAT dests): %.1f\n", sizes[0],
              small, services, services, services * kDests, large);
  std::printf("RESULT steer services=%u cycles_small=%.1f cycles_large=%.1f ratio=%.2f\n", services, small, large,
              large / small);
  for (Packets& b : packets) rte_pktmbuf_free_bulk(b.m, kPackets);
  rte_mempool_free(pool);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t services = 10000, rounds = 200;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--services" && i + 1 < argc) services = uint32_t(std::atoi(argv[++i]));
    else if (a == "--rounds" && i + 1 < argc) rounds = uint32_t(std::atoi(argv[++i]));
    else return std::fprintf(stderr, "usage: steer [--services N] [--rounds R]\n"), 2;
  }
  if (services < 1 || services > 65536 || rounds < 1)
    return std::fprintf(stderr, "steer: --services takes 1 to 65536, --rounds at least 1\n"), 2;
  char* eal[] = {argv[0], (char*)"-l", (char*)"0", (char*)"--in-memory", (char*)"--no-pci",
                 (char*)"--log-level=error"};
  if (rte_eal_init(6, eal) < 0) return std::fprintf(stderr, "steer: EAL did not start\n"), 2;
  int rc = run(services, rounds);
  rte_eal_cleanup();
  return rc;
}
