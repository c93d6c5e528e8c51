// SPDX-License-Identifier: Apache-2.0
//
// The fixture of the IPVS golden tests (ipvs_golden_test.cpp,
// ipvs_persist_test.cpp): frames in, exact frames out.
//
// process_burst() runs on a hand-filled WorkerCtx with an IpvsWorker, the
// way the engine's worker runs it, on two ports with no device behind them:
//   port 0 "wan": 02:00:00:00:00:01, 10.0.0.2/24, the client 10.0.0.1 and
//                 the router 10.0.0.254 to 192.168.0.0/16 (a static route)
//   port 1 "lan": 02:00:00:00:01:01, 10.0.1.2/24, the dests 10.0.1.11, .12
// All four neighbours are learned before each test, so every output is
// immediate. The services:
//   0  TCP 10.0.0.100:80  rr, NAT to 10.0.1.11:8080 (dest 0), 10.0.1.12:8080 (dest 1)
//   1  UDP 10.0.0.100:53  rr, NAT to 10.0.1.12:5353 (dest 2)
//   2  TCP 10.0.0.101:80  rr, DR  to 10.0.1.11:80   (dest 3)
//   3  TCP 10.0.0.102:80  rr, TUN to 10.0.1.12:80   (dest 4)
//   4  TCP 10.0.0.103:80  rr, persistent 300 s per client /24,
//                         NAT to 10.0.1.11:8080 (dest 5), 10.0.1.12:8080 (dest 6)
//   5  TCP 10.0.0.104:*   rr, port-zero, persistent 300 s per client address,
//                         NAT to 10.0.1.11:0 (dest 7), 10.0.1.12:0 (dest 8)
//   6  TCP 10.0.0.105:80  FULLNAT from 10.0.1.50 (laddr 0), no client address,
//                         to 10.0.1.11:8080 (dest 9)
//   7  UDP 10.0.0.105:53  FULLNAT from 10.0.1.50 (laddr 0) to 10.0.1.12:5353 (dest 10)
//   8  TCP 10.0.0.106:80  FULLNAT from 10.0.1.51 (laddr 1), TOA, to 10.0.1.12:8080 (dest 11)
//   9  TCP 10.0.0.107:80  FULLNAT from 10.0.1.52 (laddr 2), PROXY v2, to 10.0.1.11:8080 (dest 12)
// Each step is a burst received on a port and/or a run of ipvs_expire() at
// some time, with the exact frames each port must send, the exact change
// of every counter and of every dest and service statistic. Expected
// frames come from PacketBuilder, which computes every checksum from
// scratch and shares no code with the dataplane; exact byte equality thus
// also checks the dataplane's incremental checksum updates.
//
// Everything here is inline in its own namespace: both test files include
// it, and a test file says `using namespace ipvsgold`.
#pragma once

#include <netinet/in.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "ctrl/snapshot_build.hpp"
#include "engine/pipeline.hpp"
#include "engine/worker_ctx.hpp"
#include "ipvs/ipvs.hpp"
#include "ipvs/stats.hpp"
#include "packet_builder.hpp"

namespace fulcrum::test::ipvsgold {

using namespace tcpflag;

// ---- Topology --------------------------------------------------------

inline constexpr uint64_t kNow = 1'000'000;  // neighbour clock (TSC); never moves here
inline constexpr uint64_t kForever = uint64_t(1) << 62;

inline const Mac kWanMac = mac("02:00:00:00:00:01");
inline const Mac kLanMac = mac("02:00:00:00:01:01");
inline const uint32_t kWan = ip("10.0.0.2");
inline const uint32_t kLan = ip("10.0.1.2");
inline const uint32_t kClient = ip("10.0.0.1");
inline const Mac kClientMac = mac("02:cc:00:00:00:01");
inline const uint32_t kRs1 = ip("10.0.1.11");
inline const Mac kRs1Mac = mac("02:dd:00:00:01:11");
inline const uint32_t kRs2 = ip("10.0.1.12");
inline const Mac kRs2Mac = mac("02:dd:00:00:01:12");
inline const uint32_t kVip = ip("10.0.0.100");
inline const uint32_t kVipDr = ip("10.0.0.101");
inline const uint32_t kVipTun = ip("10.0.0.102");
inline const uint32_t kVipSticky = ip("10.0.0.103");
inline const uint32_t kVipAnyPort = ip("10.0.0.104");
inline const uint32_t kVipFnat = ip("10.0.0.105");
inline const uint32_t kVipToa = ip("10.0.0.106");
inline const uint32_t kVipProxy = ip("10.0.0.107");
inline const uint32_t kLaddr = ip("10.0.1.50");
inline const uint32_t kLaddrToa = ip("10.0.1.51");
inline const uint32_t kLaddrProxy = ip("10.0.1.52");
// A router on the wan side, towards clients in 192.168.0.0/16.
inline const uint32_t kRouter = ip("10.0.0.254");
inline const Mac kRouterMac = mac("02:ee:00:00:00:fe");
inline const uint32_t kFarNet = ip("192.168.0.0");

inline constexpr uint32_t kSvcWeb = 0, kSvcDns = 1, kSvcDr = 2, kSvcTun = 3, kSvcSticky = 4,
                          kSvcAnyPort = 5, kSvcFnat = 6, kSvcFnatDns = 7, kSvcToa = 8, kSvcProxy = 9;
inline constexpr uint32_t kWeb1 = 0, kWeb2 = 1, kDns2 = 2, kDr1 = 3, kTun2 = 4, kSticky1 = 5,
                          kSticky2 = 6, kAnyPort1 = 7, kAnyPort2 = 8, kFnat1 = 9, kFnatDns2 = 10,
                          kToa2 = 11, kProxy1 = 12;
inline constexpr uint32_t kLaddrId = 0, kLaddrToaId = 1, kLaddrProxyId = 2;
inline constexpr uint32_t kMaxServices = 16, kMaxDests = 32;
inline constexpr uint32_t kPersistMs = 300'000;
inline constexpr uint16_t kMtu = 1500;
inline constexpr size_t kEthLen = 14;

inline DestSpec dest(uint32_t id, uint32_t addr, uint16_t port, FwdMode fwd, uint32_t weight = 1) {
  return DestSpec{id, addr, htons(port), fwd, weight, 0, 0, true};
}

inline ServiceSpec service(uint32_t id, uint8_t proto, uint32_t vip, uint16_t vport,
                           std::vector<DestSpec> dests) {
  ServiceSpec s{};
  s.id = id;
  s.proto = proto;
  s.vip = vip;
  s.vport = htons(vport);
  s.scheduler = "rr";
  s.dests = std::move(dests);
  return s;
}

// A persistent service: one template per client address under mask.
inline ServiceSpec persistent(ServiceSpec s, const char* mask) {
  s.persist_ms = kPersistMs;
  s.persist_mask = ip(mask);
  return s;
}

// A FULLNAT service from one local address.
inline ServiceSpec fullnat(ServiceSpec s, uint32_t laddr_id, uint32_t laddr, ClientAddr how) {
  s.laddrs = {Laddr{laddr_id, laddr}};
  s.client_addr = how;
  return s;
}

// web_weight1, sticky_weight1: dest 0's and dest 5's weights, 0 to quiesce.
inline SnapshotSpec ipvs_spec(uint32_t web_weight1 = 1, uint32_t sticky_weight1 = 1) {
  SnapshotSpec spec;
  spec.addresses = {{kWan, 24, 0}, {kLan, 24, 1}};
  spec.routes = {{kFarNet, 16, 0, kRouter}};
  spec.services = {
      service(kSvcWeb, IPPROTO_TCP, kVip, 80,
              {dest(kWeb1, kRs1, 8080, FwdMode::kNat, web_weight1),
               dest(kWeb2, kRs2, 8080, FwdMode::kNat)}),
      service(kSvcDns, IPPROTO_UDP, kVip, 53, {dest(kDns2, kRs2, 5353, FwdMode::kNat)}),
      service(kSvcDr, IPPROTO_TCP, kVipDr, 80, {dest(kDr1, kRs1, 80, FwdMode::kDr)}),
      service(kSvcTun, IPPROTO_TCP, kVipTun, 80, {dest(kTun2, kRs2, 80, FwdMode::kTun)}),
      persistent(service(kSvcSticky, IPPROTO_TCP, kVipSticky, 80,
                         {dest(kSticky1, kRs1, 8080, FwdMode::kNat, sticky_weight1),
                          dest(kSticky2, kRs2, 8080, FwdMode::kNat)}),
                 "255.255.255.0"),
      persistent(service(kSvcAnyPort, IPPROTO_TCP, kVipAnyPort, 0,
                         {dest(kAnyPort1, kRs1, 0, FwdMode::kNat),
                          dest(kAnyPort2, kRs2, 0, FwdMode::kNat)}),
                 "255.255.255.255"),
      fullnat(service(kSvcFnat, IPPROTO_TCP, kVipFnat, 80, {dest(kFnat1, kRs1, 8080, FwdMode::kFullnat)}),
              kLaddrId, kLaddr, ClientAddr::kNone),
      fullnat(service(kSvcFnatDns, IPPROTO_UDP, kVipFnat, 53, {dest(kFnatDns2, kRs2, 5353, FwdMode::kFullnat)}),
              kLaddrId, kLaddr, ClientAddr::kNone),
      fullnat(service(kSvcToa, IPPROTO_TCP, kVipToa, 80, {dest(kToa2, kRs2, 8080, FwdMode::kFullnat)}),
              kLaddrToaId, kLaddrToa, ClientAddr::kToa),
      fullnat(service(kSvcProxy, IPPROTO_TCP, kVipProxy, 80, {dest(kProxy1, kRs1, 8080, FwdMode::kFullnat)}),
              kLaddrProxyId, kLaddrProxy, ClientAddr::kProxyV2),
  };
  return spec;
}

// The same without the persistent services (4, 5): with several workers,
// persistence steers clients between workers (engine/steer.hpp).
inline SnapshotSpec ipvs_spec_without_persistence() {
  SnapshotSpec spec = ipvs_spec();
  std::erase_if(spec.services, [](const ServiceSpec& s) { return s.persist_ms != 0; });
  return spec;
}

inline const SnapshotLimits kLimits{2, kMaxServices, kMaxDests, 8};

// ---- Frames ----------------------------------------------------------

// n bytes of a counting pattern.
inline Bytes data(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; i++) b[i] = uint8_t(i * 13 + 5);
  return b;
}

// One TCP or UDP frame as the tests send it: TTL 61 and DF, so that the
// output shows both are kept (NAT does not decrement the TTL, as LVS).
inline Bytes frame(uint8_t proto, const Mac& smac, const Mac& dmac, uint32_t src,
                   uint16_t sport, uint32_t dst, uint16_t dport, uint8_t flags,
                   const Bytes& payload) {
  PacketBuilder b;
  b.eth(smac, dmac).ipv4(src, dst).ttl(61).ip_id(0x1234).frag(0x4000);
  if (proto == IPPROTO_TCP) b.tcp(sport, dport, flags, 1000, (flags & kAck) ? 2000 : 0);
  else b.udp(sport, dport);
  return b.payload(payload).build();
}

// A client's flow to a service, bound to the dest it is expected to reach.
struct Flow {
  uint8_t proto;
  uint32_t vip;
  uint16_t vport;
  uint32_t daddr;
  Mac dmac;
  uint16_t dport;
  uint16_t cport;
  uint32_t svc, dest;
  uint32_t caddr = kClient;
  Mac cmac = kClientMac;  // the client's next hop: itself or the router
  uint32_t laddr = 0;     // FULLNAT: the local address and port the dest sees
  uint16_t lport = 0;

  // Client -> VIP, as received on port 0.
  Bytes c2v(uint8_t flags, const Bytes& p = {}) const {
    return frame(proto, cmac, kWanMac, caddr, cport, vip, vport, flags, p);
  }
  // The same packet as NAT sends it to the dest on port 1.
  Bytes nat_to_dest(uint8_t flags, const Bytes& p = {}) const {
    return frame(proto, kLanMac, dmac, caddr, cport, daddr, dport, flags, p);
  }
  // The dest's reply, as received on port 1.
  Bytes d2c(uint8_t flags, const Bytes& p = {}) const {
    return frame(proto, dmac, kLanMac, daddr, dport, caddr, cport, flags, p);
  }
  // FULLNAT: the client's packet as sent to the dest, from <laddr, lport>.
  Bytes fnat_to_dest(uint8_t flags, const Bytes& p = {}) const {
    return frame(proto, kLanMac, dmac, laddr, lport, daddr, dport, flags, p);
  }
  // FULLNAT: the dest's reply, to <laddr, lport>, as received on port 1.
  Bytes d2l(uint8_t flags, const Bytes& p = {}) const {
    return frame(proto, dmac, kLanMac, daddr, dport, laddr, lport, flags, p);
  }
  // The reply as NAT (and FULLNAT) sends it to the client on port 0: from the VIP.
  Bytes nat_to_client(uint8_t flags, const Bytes& p = {}) const {
    return frame(proto, kWanMac, cmac, vip, vport, caddr, cport, flags, p);
  }
};

inline Flow web_to_rs1(uint16_t cport = 40000) {
  return Flow{IPPROTO_TCP, kVip, 80, kRs1, kRs1Mac, 8080, cport, kSvcWeb, kWeb1};
}
inline Flow web_to_rs2(uint16_t cport = 40001) {
  return Flow{IPPROTO_TCP, kVip, 80, kRs2, kRs2Mac, 8080, cport, kSvcWeb, kWeb2};
}
inline Flow dns(uint16_t cport = 5000) {
  return Flow{IPPROTO_UDP, kVip, 53, kRs2, kRs2Mac, 5353, cport, kSvcDns, kDns2};
}
inline Flow dr(uint16_t cport = 40000) {
  return Flow{IPPROTO_TCP, kVipDr, 80, kRs1, kRs1Mac, 80, cport, kSvcDr, kDr1};
}
inline Flow tun(uint16_t cport = 40000) {
  return Flow{IPPROTO_TCP, kVipTun, 80, kRs2, kRs2Mac, 80, cport, kSvcTun, kTun2};
}
// FULLNAT flows; lport is the port the pool is expected to hand out.
inline Flow fnat(uint16_t lport, uint16_t cport = 40000) {
  return Flow{IPPROTO_TCP, kVipFnat, 80, kRs1, kRs1Mac, 8080, cport, kSvcFnat, kFnat1,
              kClient, kClientMac, kLaddr, lport};
}
inline Flow fnat_dns(uint16_t lport, uint16_t cport = 5000) {
  return Flow{IPPROTO_UDP, kVipFnat, 53, kRs2, kRs2Mac, 5353, cport, kSvcFnatDns, kFnatDns2,
              kClient, kClientMac, kLaddr, lport};
}
inline Flow toa(uint16_t lport, uint16_t cport = 40000) {
  return Flow{IPPROTO_TCP, kVipToa, 80, kRs2, kRs2Mac, 8080, cport, kSvcToa, kToa2,
              kClient, kClientMac, kLaddrToa, lport};
}
inline Flow proxy(uint16_t lport, uint16_t cport = 40000) {
  return Flow{IPPROTO_TCP, kVipProxy, 80, kRs1, kRs1Mac, 8080, cport, kSvcProxy, kProxy1,
              kClient, kClientMac, kLaddrProxy, lport};
}

// frame with new Ethernet addresses and nothing else changed (DR).
inline Bytes reframed(Bytes f, const Mac& src, const Mac& dst) {
  std::copy(dst.begin(), dst.end(), f.begin());
  std::copy(src.begin(), src.end(), f.begin() + 6);
  return f;
}

// The IP packet inside an Ethernet frame.
inline Bytes ip_packet(const Bytes& f) { return Bytes(f.begin() + kEthLen, f.end()); }

// The client's frame as TUN sends it: its IP packet, byte for byte, inside
// an outer header from our lan address to the dest: proto 4, TTL 64, the
// inner id and DF bit, checksum computed by the builder.
inline Bytes tunnelled(const Bytes& client_frame, uint32_t daddr, const Mac& dmac) {
  Bytes inner = ip_packet(client_frame);
  uint16_t id = uint16_t(inner[4] << 8 | inner[5]);
  uint16_t df = uint16_t((inner[6] << 8 | inner[7]) & 0x4000);
  return PacketBuilder().eth(kLanMac, dmac).ipv4(kLan, daddr).ip_proto(4).ip_id(id).frag(df)
      .payload(std::move(inner)).build();
}

// Where the UDP checksum sits in a frame without IP options.
inline constexpr size_t kUdpCksumOff = kEthLen + 20 + 6;

inline uint16_t udp_cksum(const Bytes& f) {
  return uint16_t(f[kUdpCksumOff] << 8 | f[kUdpCksumOff + 1]);
}

// f as sent without a UDP checksum (field 0). The IP checksum is unaffected.
inline Bytes without_udp_cksum(Bytes f) {
  f[kUdpCksumOff] = f[kUdpCksumOff + 1] = 0;
  return f;
}

// A 4-byte payload with which `build` (payload -> frame) yields a UDP
// datagram whose checksum computes to 0, i.e. is sent as 0xffff: starting
// from a zero payload with sum S (checksum ~S), adding the word ~S makes
// the sum 0xffff, whose complement is 0.
template <class F>
inline Bytes zero_sum_payload(F build) {
  Bytes p(4, 0);
  uint16_t c = udp_cksum(build(p));
  if (c != 0xffff) {
    p[0] = uint8_t(c >> 8);
    p[1] = uint8_t(c);
  }
  return p;
}

inline Bytes echo(const Mac& smac, const Mac& dmac, uint32_t src, uint32_t dst, bool reply) {
  PacketBuilder b;
  b.eth(smac, dmac).ipv4(src, dst).ip_id(0x4242).frag(0x4000).ttl(reply ? 64 : 61);
  if (reply) b.icmp_echo_reply(0x77, 1);
  else b.icmp_echo_request(0x77, 1);
  return b.payload_size(24).build();
}

// ---- Expectations ----------------------------------------------------

using Deltas = std::vector<std::pair<Counter, uint64_t>>;

struct DestDelta {
  uint32_t id;
  DestStat stat;
  int64_t n;
};
struct SvcDelta {
  uint32_t id;
  ServiceStat stat;
  int64_t n;
};
// Changes of the worker's dest and service rows; every other cell must
// stay as it was.
struct Stats {
  std::vector<DestDelta> dest;
  std::vector<SvcDelta> svc;
};
inline Stats operator+(Stats a, const Stats& b) {
  a.dest.insert(a.dest.end(), b.dest.begin(), b.dest.end());
  a.svc.insert(a.svc.end(), b.svc.begin(), b.svc.end());
  return a;
}

// A new connection: counted, and inactive until established.
inline Stats opened(const Flow& f) {
  return {{{f.dest, DestStat::conns, 1}, {f.dest, DestStat::inactive, 1}},
          {{f.svc, ServiceStat::conns, 1}, {f.svc, ServiceStat::live, 1}}};
}
// One client packet of f seen (bytes: the IP packet's).
inline Stats in_pkt(const Flow& f, const Bytes& client_frame) {
  int64_t n = int64_t(client_frame.size() - kEthLen);
  return {{{f.dest, DestStat::inpkts, 1}, {f.dest, DestStat::inbytes, n}},
          {{f.svc, ServiceStat::inpkts, 1}, {f.svc, ServiceStat::inbytes, n}}};
}
// One reply of f seen.
inline Stats out_pkt(const Flow& f, const Bytes& dest_frame) {
  int64_t n = int64_t(dest_frame.size() - kEthLen);
  return {{{f.dest, DestStat::outpkts, 1}, {f.dest, DestStat::outbytes, n}},
          {{f.svc, ServiceStat::outpkts, 1}, {f.svc, ServiceStat::outbytes, n}}};
}
// The connection reached ESTABLISHED: inactive -> active.
inline Stats established(const Flow& f) {
  return {{{f.dest, DestStat::inactive, -1}, {f.dest, DestStat::active, 1}}, {}};
}
// The connection left ESTABLISHED.
inline Stats deactivated(const Flow& f) {
  return {{{f.dest, DestStat::active, -1}, {f.dest, DestStat::inactive, 1}}, {}};
}
// An inactive connection freed (expired or reused).
inline Stats freed(const Flow& f) {
  return {{{f.dest, DestStat::inactive, -1}}, {{f.svc, ServiceStat::live, -1}}};
}

struct Step {
  std::optional<uint64_t> at_ms;  // first set the IPVS clock (ms after the test's start)
  uint16_t port = 0;              // receiving port of the burst
  std::vector<Bytes> in;          // the burst (may be empty)
  bool expire = false;            // then run ipvs_expire()
  std::vector<Bytes> out0, out1;  // exact frames queued on each port, in order
  Deltas counters;                // every other counter must not move
                                  // (rx_packets/rx_bytes are added for bursts)
  Stats stats;
};

// ---- Fixture ---------------------------------------------------------

class IpvsGolden : public ::testing::Test {
 protected:
  void SetUp() override {
    leak_.emplace();
    ctr_ = std::make_unique<LcoreCounters>();  // value-initialised: all zero
    NeighConfig nc;
    nc.reachable_tsc = kForever;
    nc.retry_tsc = 1000;
    std::string err;
    neigh_ = NeighTable::create(nc, unique_name("ipvsgold_n").c_str(), SOCKET_ID_ANY, err);
    ASSERT_NE(neigh_, nullptr) << err;
    rte_mbuf* released[8];
    ASSERT_EQ(neigh_->learn(0, kClient, ether(kClientMac), true, kNow, released, 8), 0);
    ASSERT_EQ(neigh_->learn(1, kRs1, ether(kRs1Mac), true, kNow, released, 8), 0);
    ASSERT_EQ(neigh_->learn(1, kRs2, ether(kRs2Mac), true, kNow, released, 8), 0);
    ASSERT_EQ(neigh_->learn(0, kRouter, ether(kRouterMac), true, kNow, released, 8), 0);
    snap_ = build_snapshot(ipvs_spec(), nullptr, 1, kLimits, err);
    ASSERT_NE(snap_, nullptr) << err;
    ctx_ = std::make_unique<WorkerCtx>();
    ctx_->nports = 2;
    ctx_->ports[0] = {ether(kWanMac), kMtu};
    ctx_->ports[1] = {ether(kLanMac), kMtu};
    ctx_->ctr = ctr_.get();
    ctx_->neigh = neigh_.get();
    ctx_->pool = test_pool();
    ctx_->snap = snap_.get();
    ctx_->now = kNow;
    make_ipvs(IpvsConfig{.max_conns = 1024, .max_services = kMaxServices, .max_dests = kMaxDests,
                         .max_laddrs = 8});
  }

  void TearDown() override {
    if (ctx_) {
      take_output(0);
      take_output(1);
      ctx_->ipvs = nullptr;
    }
    ipvs_.reset();
    snap2_.reset();
    retired_.clear();
    snap_.reset();
    neigh_.reset();  // frees whatever it still holds
    leak_.reset();   // every mbuf must be back in the pool
  }

  // (Re)creates the worker's IPVS state with cfg, stats rows zeroed, and
  // starts its clock at a whole tick: at(ms) is then exact to the tick.
  void make_ipvs(const IpvsConfig& cfg) {
    ctx_->ipvs = nullptr;
    ipvs_.reset();  // its connection table's name is reused
    dest_rows_.assign(cfg.max_dests, DestStats{});
    svc_rows_.assign(cfg.max_services, ServiceStats{});
    laddr_rows_.assign(cfg.max_laddrs, LaddrStats{});
    std::string err;
    ipvs_ = IpvsWorker::create(0, 1, cfg, dest_rows_.data(), svc_rows_.data(), laddr_rows_.data(), err);
    ASSERT_NE(ipvs_, nullptr) << err;
    ipvs_->all_dest_stats = {dest_rows_.data()};  // what the engine does, for one worker
    base_ms_ = (ipvs_->now_ms / cfg.tick_ms + 1) * cfg.tick_ms;
    at(0);
    ctx_->ipvs = ipvs_.get();
  }

  // Sets the IPVS clock to ms after the test's start.
  void at(uint64_t ms) { ipvs_->tick((base_ms_ + ms) * ipvs_->tsc_per_ms); }

  // Builds the next generation from spec over the first snapshot and publishes
  // it to the worker, as the engine does between loop iterations.
  void switch_to(const SnapshotSpec& spec) {
    std::string err;
    if (snap2_) retired_.push_back(std::move(snap2_));  // as the publisher keeps them for a while
    snap2_ = build_snapshot(spec, snap_.get(), next_gen_++, kLimits, err);
    ASSERT_NE(snap2_, nullptr) << err;
    ctx_->snap = snap2_.get();
  }

  std::vector<Bytes> take_output(uint16_t port) { return test::take_output(ctx_->tx, port); }
  void expect_frames(uint16_t port, const std::vector<Bytes>& want) {
    test::expect_frames(ctx_->tx, port, want);
  }

  void expect_counters(const LcoreCounters& before, const Deltas& want) {
    uint64_t expected[kCounterCount] = {};
    for (auto& [c, n] : want) expected[static_cast<size_t>(c)] += n;
    for (size_t i = 0; i < kCounterCount; i++)
      EXPECT_EQ(ctr_->v[i] - before.v[i], expected[i]) << "counter " << kCounterNames[i];
  }

  void expect_stats(const std::vector<DestStats>& dest_before,
                    const std::vector<ServiceStats>& svc_before, const Stats& want) {
    constexpr size_t nd = size_t(DestStat::count), ns = size_t(ServiceStat::count);
    std::vector<int64_t> d(dest_rows_.size() * nd), s(svc_rows_.size() * ns);
    for (auto& x : want.dest) d[x.id * nd + size_t(x.stat)] += x.n;
    for (auto& x : want.svc) s[x.id * ns + size_t(x.stat)] += x.n;
    for (size_t id = 0; id < dest_rows_.size(); id++)
      for (size_t k = 0; k < nd; k++)
        EXPECT_EQ(int64_t(dest_rows_[id].v[k] - dest_before[id].v[k]), d[id * nd + k])
            << "dest " << id << " " << kDestStatNames[k];
    for (size_t id = 0; id < svc_rows_.size(); id++)
      for (size_t k = 0; k < ns; k++)
        EXPECT_EQ(int64_t(svc_rows_[id].v[k] - svc_before[id].v[k]), s[id * ns + k])
            << "service " << id << " " << kServiceStatNames[k];
  }

  void run(const Step& st) {
    LcoreCounters before = *ctr_;
    std::vector<DestStats> dest_before = dest_rows_;
    std::vector<ServiceStats> svc_before = svc_rows_;
    Deltas want = st.counters;
    if (st.at_ms) at(*st.at_ms);
    if (!st.in.empty()) {
      uint64_t bytes = feed_burst(*ctx_, st.port, st.in);
      want.emplace_back(Counter::rx_packets, st.in.size());
      want.emplace_back(Counter::rx_bytes, bytes);
    }
    if (st.expire) ipvs_expire(*ctx_);
    expect_frames(0, st.out0);
    expect_frames(1, st.out1);
    expect_counters(before, want);
    expect_stats(dest_before, svc_before, st.stats);
  }

  void run(const std::vector<Step>& steps) {
    for (size_t i = 0; i < steps.size(); i++) {
      SCOPED_TRACE("step " + std::to_string(i));
      run(steps[i]);
    }
  }

  uint64_t dest_stat(uint32_t id, DestStat s) const { return dest_rows_[id].get(s); }

  // ---- Steps shared by several tests ----

  // f's SYN creates its connection and reaches f's dest (NAT).
  static Step nat_syn(const Flow& f) {
    Bytes in = f.c2v(kSyn);
    return Step{.in = {in},
                .out1 = {f.nat_to_dest(kSyn)},
                .counters = {{Counter::conns_created, 1}},
                .stats = opened(f) + in_pkt(f, in)};
  }
  // The dest's SYN-ACK goes back to the client from the VIP.
  static Step nat_syn_ack(const Flow& f) {
    Bytes in = f.d2c(kSyn | kAck);
    return Step{.port = 1, .in = {in}, .out0 = {f.nat_to_client(kSyn | kAck)},
                .stats = out_pkt(f, in)};
  }
  // A client packet of an existing NAT connection, forwarded; extra: what
  // else it changes (its state move).
  static Step nat_in(const Flow& f, uint8_t flags, Stats extra = {}) {
    Bytes in = f.c2v(flags);
    return Step{.in = {in}, .out1 = {f.nat_to_dest(flags)}, .stats = in_pkt(f, in) + extra};
  }
  static Step nat_out(const Flow& f, uint8_t flags, Stats extra = {}) {
    Bytes in = f.d2c(flags);
    return Step{.port = 1, .in = {in}, .out0 = {f.nat_to_client(flags)},
                .stats = out_pkt(f, in) + extra};
  }
  // The three-way handshake through NAT: ends ESTABLISHED.
  static std::vector<Step> nat_handshake(const Flow& f) {
    return {nat_syn(f), nat_syn_ack(f), nat_in(f, kAck, established(f))};
  }
  // Handshake, then the client closes first: FIN (-> CLOSE_WAIT), the
  // dest's FIN (-> TIME_WAIT), the client's last ACK (stays TIME_WAIT).
  static std::vector<Step> nat_to_time_wait(const Flow& f) {
    std::vector<Step> s = nat_handshake(f);
    s.push_back(nat_in(f, kFin | kAck, deactivated(f)));
    s.push_back(nat_out(f, kFin | kAck));
    s.push_back(nat_in(f, kAck));
    return s;
  }
  // A client packet with no connection behind it.
  static Step no_conn(const Flow& f, uint8_t flags) {
    return Step{.in = {f.c2v(flags)}, .counters = {{Counter::drop_no_conn, 1}}};
  }
  // ipvs_expire() at ms expires nothing.
  static Step nothing_expires_at(uint64_t ms) { return Step{.at_ms = ms, .expire = true}; }
  // ipvs_expire() at ms expires f's (inactive) connection.
  static Step expires_at(uint64_t ms, const Flow& f) {
    return Step{.at_ms = ms, .expire = true, .counters = {{Counter::conns_expired, 1}},
                .stats = freed(f)};
  }

  std::optional<PoolLeakCheck> leak_;
  std::unique_ptr<LcoreCounters> ctr_;
  std::unique_ptr<NeighTable> neigh_;
  std::unique_ptr<Snapshot> snap_, snap2_;
  std::vector<std::unique_ptr<Snapshot>> retired_;
  uint64_t next_gen_ = 2;
  std::unique_ptr<WorkerCtx> ctx_;
  std::vector<DestStats> dest_rows_;
  std::vector<ServiceStats> svc_rows_;
  std::vector<LaddrStats> laddr_rows_;
  std::unique_ptr<IpvsWorker> ipvs_;
  uint64_t base_ms_ = 0;
};

}  // namespace fulcrum::test::ipvsgold
