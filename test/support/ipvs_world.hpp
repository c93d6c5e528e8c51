// SPDX-License-Identifier: Apache-2.0
//
// The IPVS world that the golden tests (test/dataplane/ipvs_fixture.hpp)
// and the IPVS fuzz target (fuzz/ipvs_fuzz.cpp) both run packets through.
//
// process_burst() runs on a hand-filled WorkerCtx with an IpvsWorker, the
// way the engine's worker runs it, on two ports with no device behind them:
//   port 0 "wan": 02:00:00:00:00:01, 10.0.0.2/24, the client 10.0.0.1 and
//                 the router 10.0.0.254 to 192.168.0.0/16 (a static route)
//   port 1 "lan": 02:00:00:00:01:01, 10.0.1.2/24, the dests 10.0.1.11, .12
// All four neighbours are learned when the world is built, so every output
// is immediate. The services:
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
//   11 TCP 10.0.0.108:80  SYN proxy, NAT to 10.0.1.11:8080 (dest 14)
//   12 TCP 10.0.0.104:21  rr, persistent 300 s per client address (FTP: shares
//                         service 5's templates), NAT to 10.0.1.11:21 (dest 15),
//                         10.0.1.12:21 (dest 16)
// Frames come from PacketBuilder, which computes every checksum from
// scratch and shares no code with the dataplane.
//
// Free of GoogleTest: failures to build the world are returned as errors.
// Constants and frame helpers are inline in their own namespace; a user
// says `using namespace ipvsgold`.
#pragma once

#include <netinet/in.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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
inline const uint32_t kVipSynproxy = ip("10.0.0.108");
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
inline constexpr uint32_t kSvcSynproxy = 11, kSynproxy1 = 14;
inline constexpr uint32_t kSvcFtp = 12, kFtp1 = 15, kFtp2 = 16;
inline constexpr CookieKey kCookieKey{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
inline constexpr uint32_t kMaxServices = 16, kMaxDests = 32, kMaxLaddrs = 8;
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

inline ServiceSpec synproxied(ServiceSpec s) {
  s.synproxy = true;
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
      synproxied(service(kSvcSynproxy, IPPROTO_TCP, kVipSynproxy, 80, {dest(kSynproxy1, kRs1, 8080, FwdMode::kNat)})),
      persistent(service(kSvcFtp, IPPROTO_TCP, kVipAnyPort, 21,
                         {dest(kFtp1, kRs1, 21, FwdMode::kNat), dest(kFtp2, kRs2, 21, FwdMode::kNat)}),
                 "255.255.255.255"),
  };
  return spec;
}

// The same without the persistent services (4, 5, 12): with several
// workers, persistence steers clients between workers (engine/steer.hpp).
inline SnapshotSpec ipvs_spec_without_persistence() {
  SnapshotSpec spec = ipvs_spec();
  std::erase_if(spec.services, [](const ServiceSpec& s) { return s.persist_ms != 0; });
  return spec;
}

// ipvs_spec() with service svc's first dest inhibited (its health checks
// failed) and `added` added to take its clients.
inline SnapshotSpec ipvs_spec_failing_over(uint32_t svc, const DestSpec& added) {
  SnapshotSpec spec = ipvs_spec();
  for (ServiceSpec& s : spec.services) {
    if (s.id != svc) continue;
    s.dests[0].available = false;
    s.dests.push_back(added);
  }
  return spec;
}

inline const SnapshotLimits kLimits{2, kMaxServices, kMaxDests, kMaxLaddrs};

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
// inner TOS, id and DF bit, checksum computed by the builder.
inline Bytes tunnelled(const Bytes& client_frame, uint32_t daddr, const Mac& dmac) {
  Bytes inner = ip_packet(client_frame);
  uint8_t tos = inner[1];
  uint16_t id = uint16_t(inner[4] << 8 | inner[5]);
  uint16_t df = uint16_t((inner[6] << 8 | inner[7]) & 0x4000);
  return PacketBuilder().eth(kLanMac, dmac).ipv4(kLan, daddr).ip_proto(4).tos(tos).ip_id(id).frag(df)
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

// ---- The world -------------------------------------------------------

// Owns everything process_burst() needs for the topology above. Derived
// by the golden test fixture and by the fuzz target.
class IpvsWorld {
 protected:
  // Builds the first snapshot, then start(). false and err on failure.
  bool build(std::string& err, uint32_t max_conns = 1024);
  // Builds what one worker owns over the existing first snapshot:
  // counters, neighbours (all four learned), the ctx and a fresh IpvsWorker
  // for max_conns connections. Building the snapshot is by far the
  // costliest part (its route table), so the fuzz target builds it once
  // and only calls stop() and start() between inputs.
  bool start(std::string& err, uint32_t max_conns = 1024);
  // Frees what start() built, output still queued included.
  void stop();
  // stop(), and frees the snapshots; build() may then run again.
  void teardown();

  // (Re)creates the worker's IPVS state with cfg, stats rows zeroed, and
  // starts its clock at a whole tick: at(ms) is then exact to the tick.
  bool make_ipvs(const IpvsConfig& cfg, std::string& err);

  // Sets the IPVS clock to ms after the world's start.
  void at(uint64_t ms) { ipvs_->tick((base_ms_ + ms) * ipvs_->tsc_per_ms); }

  // Builds the next generation from spec over the first snapshot and
  // publishes it to the worker, as the engine does between loop iterations
  // (the one it replaces is kept until stop(), as the publisher keeps it
  // a while).
  bool switch_to(const SnapshotSpec& spec, std::string& err);

  std::vector<Bytes> take_output(uint16_t port) { return test::take_output(ctx_->tx, port); }

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
