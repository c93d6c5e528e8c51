// SPDX-License-Identifier: Apache-2.0
//
// Golden tests of the IPVS forwarding path: frames in, exact frames out.
//
// process_burst() runs on a hand-filled WorkerCtx with an IpvsWorker, the
// way the engine's worker runs it, on two ports with no device behind them:
//   port 0 "wan": 02:00:00:00:00:01, 10.0.0.2/24, the client 10.0.0.1
//   port 1 "lan": 02:00:00:00:01:01, 10.0.1.2/24, the dests 10.0.1.11, .12
// All three neighbours are learned before each test, so every output is
// immediate. The services:
//   0  TCP 10.0.0.100:80  rr, NAT to 10.0.1.11:8080 (dest 0), 10.0.1.12:8080 (dest 1)
//   1  UDP 10.0.0.100:53  rr, NAT to 10.0.1.12:5353 (dest 2)
//   2  TCP 10.0.0.101:80  rr, DR  to 10.0.1.11:80   (dest 3)
//   3  TCP 10.0.0.102:80  rr, TUN to 10.0.1.12:80   (dest 4)
// Each step is a burst received on a port and/or a run of ipvs_expire() at
// some time, with the exact frames each port must send, the exact change
// of every counter and of every dest and service statistic. Expected
// frames come from PacketBuilder, which computes every checksum from
// scratch and shares no code with the dataplane; exact byte equality thus
// also checks the dataplane's incremental checksum updates.
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

namespace fulcrum::test {
namespace {

using namespace tcpflag;

// ---- Topology --------------------------------------------------------

constexpr uint64_t kNow = 1'000'000;  // neighbour clock (TSC); never moves here
constexpr uint64_t kForever = uint64_t(1) << 62;

const Mac kWanMac = mac("02:00:00:00:00:01");
const Mac kLanMac = mac("02:00:00:00:01:01");
const uint32_t kWan = ip("10.0.0.2");
const uint32_t kLan = ip("10.0.1.2");
const uint32_t kClient = ip("10.0.0.1");
const Mac kClientMac = mac("02:cc:00:00:00:01");
const uint32_t kRs1 = ip("10.0.1.11");
const Mac kRs1Mac = mac("02:dd:00:00:01:11");
const uint32_t kRs2 = ip("10.0.1.12");
const Mac kRs2Mac = mac("02:dd:00:00:01:12");
const uint32_t kVip = ip("10.0.0.100");
const uint32_t kVipDr = ip("10.0.0.101");
const uint32_t kVipTun = ip("10.0.0.102");

constexpr uint32_t kSvcWeb = 0, kSvcDns = 1, kSvcDr = 2, kSvcTun = 3;
constexpr uint32_t kWeb1 = 0, kWeb2 = 1, kDns2 = 2, kDr1 = 3, kTun2 = 4;
constexpr uint32_t kMaxServices = 8, kMaxDests = 8;
constexpr uint16_t kMtu = 1500;
constexpr size_t kEthLen = 14;

DestSpec dest(uint32_t id, uint32_t addr, uint16_t port, FwdMode fwd, uint32_t weight = 1) {
  return DestSpec{id, addr, htons(port), fwd, weight, 0, 0, true};
}

ServiceSpec service(uint32_t id, uint8_t proto, uint32_t vip, uint16_t vport,
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

// web_weight1: dest 0's weight, 0 to quiesce it.
SnapshotSpec ipvs_spec(uint32_t web_weight1 = 1) {
  SnapshotSpec spec;
  spec.addresses = {{kWan, 24, 0}, {kLan, 24, 1}};
  spec.services = {
      service(kSvcWeb, IPPROTO_TCP, kVip, 80,
              {dest(kWeb1, kRs1, 8080, FwdMode::kNat, web_weight1),
               dest(kWeb2, kRs2, 8080, FwdMode::kNat)}),
      service(kSvcDns, IPPROTO_UDP, kVip, 53, {dest(kDns2, kRs2, 5353, FwdMode::kNat)}),
      service(kSvcDr, IPPROTO_TCP, kVipDr, 80, {dest(kDr1, kRs1, 80, FwdMode::kDr)}),
      service(kSvcTun, IPPROTO_TCP, kVipTun, 80, {dest(kTun2, kRs2, 80, FwdMode::kTun)}),
  };
  return spec;
}

const SnapshotLimits kLimits{2, kMaxServices, kMaxDests};

// ---- Frames ----------------------------------------------------------

// n bytes of a counting pattern.
Bytes data(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; i++) b[i] = uint8_t(i * 13 + 5);
  return b;
}

// One TCP or UDP frame as the tests send it: TTL 61 and DF, so that the
// output shows both are kept (NAT does not decrement the TTL, as LVS).
Bytes frame(uint8_t proto, const Mac& smac, const Mac& dmac, uint32_t src, uint16_t sport,
            uint32_t dst, uint16_t dport, uint8_t flags, const Bytes& payload) {
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

  // Client -> VIP, as received on port 0.
  Bytes c2v(uint8_t flags, const Bytes& p = {}) const {
    return frame(proto, kClientMac, kWanMac, kClient, cport, vip, vport, flags, p);
  }
  // The same packet as NAT sends it to the dest on port 1.
  Bytes nat_to_dest(uint8_t flags, const Bytes& p = {}) const {
    return frame(proto, kLanMac, dmac, kClient, cport, daddr, dport, flags, p);
  }
  // The dest's reply, as received on port 1.
  Bytes d2c(uint8_t flags, const Bytes& p = {}) const {
    return frame(proto, dmac, kLanMac, daddr, dport, kClient, cport, flags, p);
  }
  // The reply as NAT sends it to the client on port 0: from the VIP.
  Bytes nat_to_client(uint8_t flags, const Bytes& p = {}) const {
    return frame(proto, kWanMac, kClientMac, vip, vport, kClient, cport, flags, p);
  }
};

Flow web_to_rs1(uint16_t cport = 40000) {
  return Flow{IPPROTO_TCP, kVip, 80, kRs1, kRs1Mac, 8080, cport, kSvcWeb, kWeb1};
}
Flow web_to_rs2(uint16_t cport = 40001) {
  return Flow{IPPROTO_TCP, kVip, 80, kRs2, kRs2Mac, 8080, cport, kSvcWeb, kWeb2};
}
Flow dns(uint16_t cport = 5000) {
  return Flow{IPPROTO_UDP, kVip, 53, kRs2, kRs2Mac, 5353, cport, kSvcDns, kDns2};
}
Flow dr(uint16_t cport = 40000) {
  return Flow{IPPROTO_TCP, kVipDr, 80, kRs1, kRs1Mac, 80, cport, kSvcDr, kDr1};
}
Flow tun(uint16_t cport = 40000) {
  return Flow{IPPROTO_TCP, kVipTun, 80, kRs2, kRs2Mac, 80, cport, kSvcTun, kTun2};
}

// frame with new Ethernet addresses and nothing else changed (DR).
Bytes reframed(Bytes f, const Mac& src, const Mac& dst) {
  std::copy(dst.begin(), dst.end(), f.begin());
  std::copy(src.begin(), src.end(), f.begin() + 6);
  return f;
}

// The IP packet inside an Ethernet frame.
Bytes ip_packet(const Bytes& f) { return Bytes(f.begin() + kEthLen, f.end()); }

// The client's frame as TUN sends it: its IP packet, byte for byte, inside
// an outer header from our lan address to the dest: proto 4, TTL 64, the
// inner id and DF bit, checksum computed by the builder.
Bytes tunnelled(const Bytes& client_frame, uint32_t daddr, const Mac& dmac) {
  Bytes inner = ip_packet(client_frame);
  uint16_t id = uint16_t(inner[4] << 8 | inner[5]);
  uint16_t df = uint16_t((inner[6] << 8 | inner[7]) & 0x4000);
  return PacketBuilder().eth(kLanMac, dmac).ipv4(kLan, daddr).ip_proto(4).ip_id(id).frag(df)
      .payload(std::move(inner)).build();
}

// Where the UDP checksum sits in a frame without IP options.
constexpr size_t kUdpCksumOff = kEthLen + 20 + 6;

uint16_t udp_cksum(const Bytes& f) { return uint16_t(f[kUdpCksumOff] << 8 | f[kUdpCksumOff + 1]); }

// f as sent without a UDP checksum (field 0). The IP checksum is unaffected.
Bytes without_udp_cksum(Bytes f) {
  f[kUdpCksumOff] = f[kUdpCksumOff + 1] = 0;
  return f;
}

// A 4-byte payload with which `build` (payload -> frame) yields a UDP
// datagram whose checksum computes to 0, i.e. is sent as 0xffff: starting
// from a zero payload with sum S (checksum ~S), adding the word ~S makes
// the sum 0xffff, whose complement is 0.
template <class F>
Bytes zero_sum_payload(F build) {
  Bytes p(4, 0);
  uint16_t c = udp_cksum(build(p));
  if (c != 0xffff) {
    p[0] = uint8_t(c >> 8);
    p[1] = uint8_t(c);
  }
  return p;
}

Bytes echo(const Mac& smac, const Mac& dmac, uint32_t src, uint32_t dst, bool reply) {
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
Stats operator+(Stats a, const Stats& b) {
  a.dest.insert(a.dest.end(), b.dest.begin(), b.dest.end());
  a.svc.insert(a.svc.end(), b.svc.begin(), b.svc.end());
  return a;
}

// A new connection: counted, and inactive until established.
Stats opened(const Flow& f) {
  return {{{f.dest, DestStat::conns, 1}, {f.dest, DestStat::inactive, 1}},
          {{f.svc, ServiceStat::conns, 1}, {f.svc, ServiceStat::live, 1}}};
}
// One client packet of f seen (bytes: the IP packet's).
Stats in_pkt(const Flow& f, const Bytes& client_frame) {
  int64_t n = int64_t(client_frame.size() - kEthLen);
  return {{{f.dest, DestStat::inpkts, 1}, {f.dest, DestStat::inbytes, n}},
          {{f.svc, ServiceStat::inpkts, 1}, {f.svc, ServiceStat::inbytes, n}}};
}
// One reply of f seen.
Stats out_pkt(const Flow& f, const Bytes& dest_frame) {
  int64_t n = int64_t(dest_frame.size() - kEthLen);
  return {{{f.dest, DestStat::outpkts, 1}, {f.dest, DestStat::outbytes, n}},
          {{f.svc, ServiceStat::outpkts, 1}, {f.svc, ServiceStat::outbytes, n}}};
}
// The connection reached ESTABLISHED: inactive -> active.
Stats established(const Flow& f) {
  return {{{f.dest, DestStat::inactive, -1}, {f.dest, DestStat::active, 1}}, {}};
}
// The connection left ESTABLISHED.
Stats deactivated(const Flow& f) {
  return {{{f.dest, DestStat::active, -1}, {f.dest, DestStat::inactive, 1}}, {}};
}
// An inactive connection freed (expired or reused).
Stats freed(const Flow& f) {
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
    make_ipvs(IpvsConfig{.max_conns = 1024, .max_services = kMaxServices, .max_dests = kMaxDests});
  }

  void TearDown() override {
    if (ctx_) {
      take_output(0);
      take_output(1);
      ctx_->ipvs = nullptr;
    }
    ipvs_.reset();
    snap2_.reset();
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
    std::string err;
    ipvs_ = IpvsWorker::create(0, 1, cfg, dest_rows_.data(), svc_rows_.data(), err);
    ASSERT_NE(ipvs_, nullptr) << err;
    ipvs_->all_dest_stats = {dest_rows_.data()};  // what the engine does, for one worker
    base_ms_ = (ipvs_->now_ms / cfg.tick_ms + 1) * cfg.tick_ms;
    at(0);
    ctx_->ipvs = ipvs_.get();
  }

  // Sets the IPVS clock to ms after the test's start.
  void at(uint64_t ms) { ipvs_->tick((base_ms_ + ms) * ipvs_->tsc_per_ms); }

  // Builds generation 2 from spec over the first snapshot and publishes
  // it to the worker, as the engine does between loop iterations.
  void switch_to(const SnapshotSpec& spec) {
    std::string err;
    snap2_ = build_snapshot(spec, snap_.get(), 2, kLimits, err);
    ASSERT_NE(snap2_, nullptr) << err;
    ctx_->snap = snap2_.get();
  }

  // Copies out and frees everything queued on port.
  std::vector<Bytes> take_output(uint16_t port) {
    std::vector<Bytes> out;
    for (uint16_t i = 0; i < ctx_->tx.n[port]; i++) {
      out.push_back(bytes_of(ctx_->tx.pkts[port][i]));
      rte_pktmbuf_free(ctx_->tx.pkts[port][i]);
    }
    ctx_->tx.n[port] = 0;
    return out;
  }

  void expect_frames(uint16_t port, const std::vector<Bytes>& want) {
    std::vector<Bytes> got = take_output(port);
    EXPECT_EQ(got.size(), want.size()) << "frames sent on port " << port;
    for (size_t i = 0; i < std::max(got.size(), want.size()); i++) {
      SCOPED_TRACE("port " + std::to_string(port) + ", frame " + std::to_string(i));
      EXPECT_PRED_FORMAT2(FrameEq, i < want.size() ? want[i] : Bytes{},
                          i < got.size() ? got[i] : Bytes{});
    }
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
      std::vector<rte_mbuf*> burst;
      uint64_t bytes = 0;
      for (const Bytes& f : st.in) {
        burst.push_back(mbuf_from(f));
        bytes += f.size();
      }
      process_burst(*ctx_, st.port, burst.data(), uint16_t(burst.size()));
      want.emplace_back(Counter::rx_packets, burst.size());
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
  std::unique_ptr<WorkerCtx> ctx_;
  std::vector<DestStats> dest_rows_;
  std::vector<ServiceStats> svc_rows_;
  std::unique_ptr<IpvsWorker> ipvs_;
  uint64_t base_ms_ = 0;
};

// ---- 1-3. NAT --------------------------------------------------------

// The client's SYN goes to rr's first dest with only the destination
// address and port rewritten (TTL, id, DF, seq kept) and both checksums
// equal to a from-scratch computation; Ethernet from the lan port to the
// dest's MAC.
TEST_F(IpvsGolden, NatSynGoesToTheFirstRrDestWithTheDestinationRewritten) {
  const Flow f = web_to_rs1();
  run(nat_syn(f));
  EXPECT_EQ(ipvs_->conns->size(), 1u);
}

// The dest's SYN-ACK is matched by the out key and leaves from the VIP;
// the client's ACK establishes the connection: the dest's gauges move
// from inactive to active.
TEST_F(IpvsGolden, NatReplyLeavesFromTheVipAndTheHandshakeEstablishes) {
  const Flow f = web_to_rs1();
  run(nat_handshake(f));
  EXPECT_EQ(dest_stat(kWeb1, DestStat::active), 1u);
  EXPECT_EQ(dest_stat(kWeb1, DestStat::inactive), 0u);
  // Data both ways keeps going through the same connection.
  run(nat_in(f, kAck | kPsh));
  run(nat_out(f, kAck | kPsh));
}

TEST_F(IpvsGolden, RrSendsTheSecondFlowToTheSecondDestAndTheThirdBackToTheFirst) {
  run(nat_syn(web_to_rs1(40000)));
  run(nat_syn(web_to_rs2(40001)));
  run(nat_syn(web_to_rs1(40002)));
}

// Packets of several flows in one burst are each handled by their own
// connection, outputs in arrival order.
TEST_F(IpvsGolden, NatBurstOfTwoFlowsKeepsEachOnItsDest) {
  const Flow a = web_to_rs1(40000), b = web_to_rs2(40001);
  run(nat_syn(a));
  run(nat_syn(b));
  Bytes a1 = a.c2v(kAck), b1 = b.c2v(kAck), a2 = a.c2v(kAck | kPsh, data(100));
  run(Step{.in = {a1, b1, a2},
           .out1 = {a.nat_to_dest(kAck), b.nat_to_dest(kAck), a.nat_to_dest(kAck | kPsh, data(100))},
           .stats = in_pkt(a, a1) + in_pkt(b, b1) + in_pkt(a, a2) + established(a) +
                    established(b)});
}

// ---- 4. UDP NAT ------------------------------------------------------

TEST_F(IpvsGolden, UdpNatBothWays) {
  const Flow f = dns();
  Bytes q = f.c2v(0, data(33)), r = f.d2c(0, data(71));
  run(Step{.in = {q},
           .out1 = {f.nat_to_dest(0, data(33))},
           .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, q)});
  run(Step{.port = 1, .in = {r}, .out0 = {f.nat_to_client(0, data(71))}, .stats = out_pkt(f, r)});
  // A second query of the same flow: same connection, nothing created.
  run(Step{.in = {q}, .out1 = {f.nat_to_dest(0, data(33))}, .stats = in_pkt(f, q)});
}

// Checksum 0 means "none" in UDP: the rewrite must not invent one (only
// the IP header checksum changes).
TEST_F(IpvsGolden, UdpWithoutChecksumStaysWithoutBothWays) {
  const Flow f = dns();
  Bytes q = without_udp_cksum(f.c2v(0, data(20)));
  Bytes r = without_udp_cksum(f.d2c(0, data(20)));
  run(Step{.in = {q},
           .out1 = {without_udp_cksum(f.nat_to_dest(0, data(20)))},
           .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, q)});
  run(Step{.port = 1, .in = {r}, .out0 = {without_udp_cksum(f.nat_to_client(0, data(20)))},
           .stats = out_pkt(f, r)});
}

// A datagram whose rewritten checksum computes to 0 must carry 0xffff (0
// would say "no checksum"), in both directions.
TEST_F(IpvsGolden, UdpChecksumThatRewritesToZeroIsSentAsFfff) {
  const Flow f = dns();
  Bytes pin = zero_sum_payload([&](const Bytes& p) { return f.nat_to_dest(0, p); });
  Bytes pout = zero_sum_payload([&](const Bytes& p) { return f.nat_to_client(0, p); });
  Bytes want_in = f.nat_to_dest(0, pin), want_out = f.nat_to_client(0, pout);
  ASSERT_EQ(udp_cksum(want_in), 0xffff) << "test construction";
  ASSERT_EQ(udp_cksum(want_out), 0xffff) << "test construction";
  Bytes q = f.c2v(0, pin), r = f.d2c(0, pout);
  ASSERT_NE(udp_cksum(q), 0xffff);  // the input's checksum is something else
  run(Step{.in = {q},
           .out1 = {want_in},
           .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, q)});
  run(Step{.port = 1, .in = {r}, .out0 = {want_out}, .stats = out_pkt(f, r)});
}

// ---- 5. No connection, no service ------------------------------------

// Only a plain SYN may open a TCP connection: ACK, SYN-ACK, RST and FIN
// to a service with no connection are dropped by name.
TEST_F(IpvsGolden, TcpWithoutAPlainSynAndNoConnectionIsDropped) {
  const Flow f = web_to_rs1();
  run(Step{.in = {f.c2v(kAck), f.c2v(kSyn | kAck), f.c2v(kRst), f.c2v(kFin | kAck)},
           .counters = {{Counter::drop_no_conn, 4}}});
  EXPECT_EQ(ipvs_->conns->size(), 0u);
}

// The VIP is an owned address, so traffic to one of its ports that no
// service takes is local input, which has no TCP/UDP service.
TEST_F(IpvsGolden, TcpAndUdpToAnUnservedPortOfTheVipAreLocalInput) {
  Flow tcp81 = web_to_rs1();
  tcp81.vport = 81;
  Flow udp54 = dns();
  udp54.vport = 54;
  Flow udp80 = dns();  // UDP to the port of a TCP-only service
  udp80.vport = 80;
  run(Step{.in = {tcp81.c2v(kSyn), udp54.c2v(0, data(8)), udp80.c2v(0, data(8))},
           .counters = {{Counter::drop_no_service, 3}}});
}

// ---- 6. VIPs are owned addresses --------------------------------------

TEST_F(IpvsGolden, EchoToTheVipIsAnsweredFromTheVip) {
  run(Step{.in = {echo(kClientMac, kWanMac, kClient, kVip, false)},
           .out0 = {echo(kWanMac, kClientMac, kVip, kClient, true)},
           .counters = {{Counter::icmp_echo_replies, 1}}});
}

// ARP for a VIP is answered on the port whose subnet holds it, and only
// there.
TEST_F(IpvsGolden, ArpForTheVipIsAnsweredOnTheWanPortOnly) {
  run(Step{.in = {PacketBuilder().eth(kClientMac, kBroadcast)
                      .arp(1, kClientMac, kClient, kZeroMac, kVip).build()},
           .out0 = {PacketBuilder().eth(kWanMac, kClientMac)
                        .arp(2, kWanMac, kVip, kClientMac, kClient).build()},
           .counters = {{Counter::arp_replies_sent, 1}, {Counter::neigh_learned, 1}}});
  run(Step{.port = 1,
           .in = {PacketBuilder().eth(kRs1Mac, kBroadcast)
                      .arp(1, kRs1Mac, kRs1, kZeroMac, kVip).build()},
           .counters = {{Counter::drop_arp_not_ours, 1}}});
}

// ---- 7. DR -----------------------------------------------------------

// DR sends the client's packet unchanged to the dest's MAC: the dest
// owns the VIP and answers the client directly.
TEST_F(IpvsGolden, DrChangesOnlyTheEthernetHeader) {
  const Flow f = dr();
  Bytes syn = f.c2v(kSyn), ack = f.c2v(kAck, data(10));
  run(Step{.in = {syn},
           .out1 = {reframed(syn, kLanMac, kRs1Mac)},
           .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, syn)});
  // Replies are never seen with DR: the client's ACK alone establishes.
  run(Step{.in = {ack}, .out1 = {reframed(ack, kLanMac, kRs1Mac)},
           .stats = in_pkt(f, ack) + established(f)});
}

// DR connections have no out key: a packet from the dest to the client
// through us is not a reply of anything, and not for an owned address.
TEST_F(IpvsGolden, DrHasNoOutKeySoTheDestsPacketIsNotOurs) {
  const Flow f = dr();
  Bytes syn = f.c2v(kSyn);
  run(Step{.in = {syn},
           .out1 = {reframed(syn, kLanMac, kRs1Mac)},
           .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, syn)});
  run(Step{.port = 1, .in = {f.d2c(kSyn | kAck)}, .counters = {{Counter::drop_not_ours, 1}}});
}

// ---- 8. TUN ----------------------------------------------------------

TEST_F(IpvsGolden, TunEncapsulatesTheUnchangedPacketInIpip) {
  const Flow f = tun();
  Bytes syn = f.c2v(kSyn);
  Bytes want = tunnelled(syn, kRs2, kRs2Mac);
  // Spelled out, what tunnelled() built: proto 4, TTL 64, DF, 20 bytes more.
  ASSERT_EQ(want.size(), syn.size() + 20);
  EXPECT_EQ(want[kEthLen + 9], 4);
  EXPECT_EQ(want[kEthLen + 8], 64);
  EXPECT_EQ(want[kEthLen + 6] & 0x40, 0x40);
  run(Step{.in = {syn},
           .out1 = {want},
           .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, syn)});
}

// Without DF the outer header has none either.
TEST_F(IpvsGolden, TunOuterHeaderHasNoDfWhenTheInnerHasNone) {
  const Flow f = tun();
  Bytes syn = PacketBuilder().eth(kClientMac, kWanMac).ipv4(kClient, kVipTun).ip_id(7)
                  .tcp(f.cport, 80, kSyn).build();
  Bytes want = tunnelled(syn, kRs2, kRs2Mac);
  EXPECT_EQ(want[kEthLen + 6] & 0x40, 0);
  run(Step{.in = {syn},
           .out1 = {want},
           .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, syn)});
}

// The outer header costs 20 bytes: a 1480-byte packet just fits a 1500
// MTU; a 1490-byte one with DF is refused with "fragmentation needed",
// sent from the VIP to the client with next-hop MTU 1480 and the inner
// header plus 8 bytes quoted. The refused packet was still counted in the
// dest's inpkts and moved the state (as LVS: stats before transmit).
TEST_F(IpvsGolden, TunTooBigWithDfGetsFragmentationNeededWithTheTunnelMtu) {
  const Flow f = tun();
  Bytes syn = f.c2v(kSyn);
  run(Step{.in = {syn},
           .out1 = {tunnelled(syn, kRs2, kRs2Mac)},
           .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, syn)});

  Bytes fits = f.c2v(kAck, data(1480 - 40));
  ASSERT_EQ(fits.size(), kEthLen + 1480);
  Bytes want_fits = tunnelled(fits, kRs2, kRs2Mac);
  ASSERT_EQ(want_fits.size(), kEthLen + kMtu);
  run(Step{.in = {fits}, .out1 = {want_fits}, .stats = in_pkt(f, fits) + established(f)});

  Bytes big = f.c2v(kAck, data(1490 - 40));
  ASSERT_EQ(big.size(), kEthLen + 1490);
  Bytes quoted(big.begin() + kEthLen, big.begin() + kEthLen + 20 + 8);
  Bytes frag_needed = PacketBuilder().eth(kWanMac, kClientMac).ipv4(kVipTun, kClient)
                          .icmp(3, 4, 1480).payload(quoted).build();
  run(Step{.in = {big},
           .out0 = {frag_needed},
           .counters = {{Counter::drop_tun_too_big, 1}, {Counter::icmp_frag_needed_sent, 1}},
           .stats = in_pkt(f, big)});
}

// No fragmentation yet: too big without DF is dropped, with no ICMP.
TEST_F(IpvsGolden, TunTooBigWithoutDfIsDropped) {
  const Flow f = tun();
  Bytes syn = PacketBuilder().eth(kClientMac, kWanMac).ipv4(kClient, kVipTun)
                  .tcp(f.cport, 80, kSyn).payload_size(1490 - 40).build();
  run(Step{.in = {syn},
           .counters = {{Counter::conns_created, 1}, {Counter::drop_tun_too_big, 1}},
           .stats = opened(f) + in_pkt(f, syn)});
}

// With no mbuf left for the ICMP error the packet is still refused, and
// the missing error is counted instead of sent.
TEST_F(IpvsGolden, TunTooBigWithAnEmptyMbufPoolIsRefusedWithoutIcmp) {
  const Flow f = tun();
  Bytes syn = f.c2v(kSyn);
  run(Step{.in = {syn},
           .out1 = {tunnelled(syn, kRs2, kRs2Mac)},
           .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, syn)});
  Bytes big = f.c2v(kAck, data(1490 - 40));
  rte_mbuf* m = mbuf_from(big);
  std::vector<rte_mbuf*> hog;  // everything else the pool has
  while (rte_mbuf* x = rte_pktmbuf_alloc(test_pool())) hog.push_back(x);
  LcoreCounters before = *ctr_;
  std::vector<DestStats> dest_before = dest_rows_;
  std::vector<ServiceStats> svc_before = svc_rows_;
  process_burst(*ctx_, 0, &m, 1);
  for (rte_mbuf* x : hog) rte_pktmbuf_free(x);
  expect_frames(0, {});
  expect_frames(1, {});
  expect_counters(before, {{Counter::rx_packets, 1},
                           {Counter::rx_bytes, big.size()},
                           {Counter::drop_tun_too_big, 1},
                           {Counter::drop_no_mbuf, 1}});
  expect_stats(dest_before, svc_before, in_pkt(f, big) + established(f));
}

// ---- 9. Expiry -------------------------------------------------------

// TIME_WAIT lasts 120 s: not a tick less, and the connection is gone
// after it (the client's next ACK finds nothing), the dest's gauges at 0.
TEST_F(IpvsGolden, TimeWaitConnectionExpiresAfterItsTimeout) {
  const Flow f = web_to_rs1();
  run(nat_to_time_wait(f));
  run(nothing_expires_at(120'000 - 10));
  EXPECT_EQ(ipvs_->conns->size(), 1u);
  run(expires_at(120'000, f));
  EXPECT_EQ(ipvs_->conns->size(), 0u);
  run(no_conn(f, kAck));
  EXPECT_EQ(dest_stat(kWeb1, DestStat::active), 0u);
  EXPECT_EQ(dest_stat(kWeb1, DestStat::inactive), 0u);
  EXPECT_EQ(svc_rows_[kSvcWeb].get(ServiceStat::live), 0u);
}

// A RST moves an established connection to CLOSE, whose 10 s timeout is
// shorter than what was queued: the timer must be moved earlier.
TEST_F(IpvsGolden, RstClosesAndTheConnectionExpiresAfterTheCloseTimeout) {
  const Flow f = web_to_rs1();
  run(nat_handshake(f));
  run(nat_in(f, kRst, deactivated(f)));
  run(nothing_expires_at(10'000 - 10));
  run(expires_at(10'000, f));
  run(no_conn(f, kAck));
  EXPECT_EQ(dest_stat(kWeb1, DestStat::active), 0u);
  EXPECT_EQ(dest_stat(kWeb1, DestStat::inactive), 0u);
}

// ESTABLISHED lasts 900 s, far beyond the wheel's 41 s horizon: the timer
// goes round the wheel many times and must fire on time, not at a lap.
// Expiring an established connection takes it off the active gauge.
TEST_F(IpvsGolden, EstablishedConnectionExpiresAfterFifteenMinutes) {
  const Flow f = web_to_rs1();
  run(nat_handshake(f));
  for (uint64_t ms = 10'000; ms < 900'000; ms += 10'000) {
    SCOPED_TRACE("at " + std::to_string(ms) + " ms");
    run(nothing_expires_at(ms));
    if (HasFailure()) return;
  }
  run(nothing_expires_at(900'000 - 10));
  run(Step{.at_ms = 900'000, .expire = true, .counters = {{Counter::conns_expired, 1}},
           .stats = {{{f.dest, DestStat::active, -1}}, {{f.svc, ServiceStat::live, -1}}}});
  run(no_conn(f, kAck));
}

// Lazy re-arm: a packet only stores the new expiry; the wheel must move
// the timer when the original deadline comes instead of expiring it. UDP
// lasts 300 s: a datagram at 200 s pushes the end to 500 s. The worker
// loop's expiry is run every second in between.
TEST_F(IpvsGolden, RefreshedConnectionOutlivesItsFirstDeadline) {
  const Flow f = dns();
  Bytes q = f.c2v(0, data(12));
  run(Step{.in = {q},
           .out1 = {f.nat_to_dest(0, data(12))},
           .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, q)});
  run(Step{.at_ms = 200'000, .in = {q}, .out1 = {f.nat_to_dest(0, data(12))},
           .stats = in_pkt(f, q)});
  for (uint64_t ms = 1'000; ms < 500'000; ms += 1'000) {
    SCOPED_TRACE("at " + std::to_string(ms) + " ms");
    run(nothing_expires_at(ms));
    if (HasFailure()) return;
  }
  run(nothing_expires_at(500'000 - 10));
  EXPECT_EQ(ipvs_->conns->size(), 1u);
  run(expires_at(500'000, f));
  EXPECT_EQ(ipvs_->conns->size(), 0u);
}

// The same with the clock jumping straight past the first deadline (a
// loop that stalled): the refreshed connection must still survive it.
TEST_F(IpvsGolden, RefreshedConnectionSurvivesAJumpPastItsFirstDeadline) {
  const Flow f = dns();
  Bytes q = f.c2v(0, data(12));
  run(Step{.in = {q},
           .out1 = {f.nat_to_dest(0, data(12))},
           .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, q)});
  run(Step{.at_ms = 200'000, .in = {q}, .out1 = {f.nat_to_dest(0, data(12))},
           .stats = in_pkt(f, q)});
  run(nothing_expires_at(300'000));
  run(nothing_expires_at(499'990));
  EXPECT_EQ(ipvs_->conns->size(), 1u);
  run(expires_at(500'000, f));
}

// ---- 10. Connection reuse --------------------------------------------

// A new plain SYN from the same client port while the old connection is
// in TIME_WAIT is a new connection (conn_reuse_mode 1): the old one is
// freed and the SYN scheduled afresh, here to rr's next dest.
TEST_F(IpvsGolden, SynOnATimeWaitConnectionReschedules) {
  const Flow old = web_to_rs1(40000);
  run(nat_to_time_wait(old));
  const Flow fresh = web_to_rs2(40000);
  Bytes syn = fresh.c2v(kSyn);
  run(Step{.in = {syn},
           .out1 = {fresh.nat_to_dest(kSyn)},
           .counters = {{Counter::conns_reused, 1}, {Counter::conns_created, 1}},
           .stats = freed(old) + opened(fresh) + in_pkt(fresh, syn)});
  EXPECT_EQ(ipvs_->conns->size(), 1u);
  // The fresh connection is the one the dest's reply now matches; the old
  // dest's reply matches nothing.
  run(nat_syn_ack(fresh));
  run(Step{.port = 1, .in = {old.d2c(kAck)}, .counters = {{Counter::drop_not_ours, 1}}});
}

// A SYN on an established connection is not a new connection.
TEST_F(IpvsGolden, SynOnAnEstablishedConnectionIsForwardedOnIt) {
  const Flow f = web_to_rs1();
  run(nat_handshake(f));
  run(nat_in(f, kSyn));
  EXPECT_EQ(ipvs_->conns->size(), 1u);
}

// ---- 11. Connection pool exhaustion ----------------------------------

// With room for 4 connections the 5th new flow is refused, and the
// established ones carry on both ways.
TEST_F(IpvsGolden, FullConnectionPoolRefusesNewFlowsOnly) {
  make_ipvs(IpvsConfig{.max_conns = 4, .max_services = kMaxServices, .max_dests = kMaxDests});
  const Flow a = web_to_rs1(40000);
  run(nat_handshake(a));
  run(nat_syn(web_to_rs2(40001)));
  run(nat_syn(web_to_rs1(40002)));
  run(nat_syn(web_to_rs2(40003)));
  EXPECT_EQ(ipvs_->conns->size(), 4u);
  run(Step{.in = {web_to_rs1(40004).c2v(kSyn)},
           .counters = {{Counter::drop_conn_pool_full, 1}}});
  run(nat_in(a, kAck | kPsh));
  run(nat_out(a, kAck | kPsh));
  // A UDP flow is refused the same way.
  run(Step{.in = {dns().c2v(0, data(8))}, .counters = {{Counter::drop_conn_pool_full, 1}}});
}

// ---- 12. Quiesced dest -----------------------------------------------

// Weight 0 in a new snapshot: no new flow goes to the dest, but its
// existing connection is still forwarded both ways.
TEST_F(IpvsGolden, QuiescedDestKeepsItsConnectionsButGetsNoNewOnes) {
  const Flow a = web_to_rs1(40000);
  run(nat_syn(a));
  switch_to(ipvs_spec(/*web_weight1=*/0));
  if (HasFatalFailure()) return;
  run(nat_syn_ack(a));
  run(nat_in(a, kAck, established(a)));
  for (uint16_t cport = 40001; cport <= 40004; cport++) run(nat_syn(web_to_rs2(cport)));
  run(nat_in(a, kAck | kPsh));
  run(nat_out(a, kAck | kPsh));
}

// With every dest quiesced or inhibited there is nobody to take a new
// flow: it is dropped by name, and nothing is created.
TEST_F(IpvsGolden, NoUsableDestDropsNewFlowsWithNoDest) {
  SnapshotSpec spec = ipvs_spec(/*web_weight1=*/0);
  spec.services[kSvcWeb].dests[1].available = false;  // health check down
  switch_to(spec);
  if (HasFatalFailure()) return;
  run(Step{.in = {web_to_rs1().c2v(kSyn)}, .counters = {{Counter::drop_no_dest, 1}}});
  EXPECT_EQ(ipvs_->conns->size(), 0u);
  // The VIP's UDP service has its own dest and is unaffected.
  const Flow u = dns();
  Bytes q = u.c2v(0, data(8));
  run(Step{.in = {q},
           .out1 = {u.nat_to_dest(0, data(8))},
           .counters = {{Counter::conns_created, 1}},
           .stats = opened(u) + in_pkt(u, q)});
}

// ---- Expiry work is bounded ------------------------------------------

// ipvs_expire() frees at most 256 connections per call, so a mass expiry
// is spread over loop iterations: 300 due at once take two calls.
TEST_F(IpvsGolden, MassExpiryIsSpreadOverCalls) {
  constexpr uint16_t kFlows = 300, kPerBurst = 30;
  for (uint16_t first = 0; first < kFlows; first += kPerBurst) {
    Step st{.counters = {{Counter::conns_created, kPerBurst}}};
    for (uint16_t i = first; i < first + kPerBurst; i++) {
      const Flow f = dns(uint16_t(10000 + i));
      Bytes q = f.c2v(0, data(4));
      st.in.push_back(q);
      st.out1.push_back(f.nat_to_dest(0, data(4)));
      st.stats = st.stats + opened(f) + in_pkt(f, q);
    }
    run(st);
  }
  ASSERT_EQ(ipvs_->conns->size(), kFlows);
  const Flow f = dns();
  auto freed_n = [&](int64_t n) {
    return Stats{{{f.dest, DestStat::inactive, -n}}, {{f.svc, ServiceStat::live, -n}}};
  };
  run(Step{.at_ms = 300'000, .expire = true, .counters = {{Counter::conns_expired, 256}},
           .stats = freed_n(256)});
  run(Step{.at_ms = 300'000, .expire = true, .counters = {{Counter::conns_expired, 44}},
           .stats = freed_n(44)});
  EXPECT_EQ(ipvs_->conns->size(), 0u);
}

// ---- Everything at once ----------------------------------------------

// One burst from the wan port: a NAT SYN, an echo to the VIP, ARP for the
// VIP, a DR SYN and a TUN SYN, each to its own output, in order.
TEST_F(IpvsGolden, MixedBurstIsHandledInOrder) {
  const Flow n = web_to_rs1(), d = dr(40100), t = tun(40200);
  Bytes nsyn = n.c2v(kSyn), dsyn = d.c2v(kSyn), tsyn = t.c2v(kSyn);
  run(Step{.in = {nsyn, echo(kClientMac, kWanMac, kClient, kVip, false),
                  PacketBuilder().eth(kClientMac, kBroadcast)
                      .arp(1, kClientMac, kClient, kZeroMac, kVipTun).build(),
                  dsyn, tsyn},
           .out0 = {echo(kWanMac, kClientMac, kVip, kClient, true),
                    PacketBuilder().eth(kWanMac, kClientMac)
                        .arp(2, kWanMac, kVipTun, kClientMac, kClient).build()},
           .out1 = {n.nat_to_dest(kSyn), reframed(dsyn, kLanMac, kRs1Mac),
                    tunnelled(tsyn, kRs2, kRs2Mac)},
           .counters = {{Counter::conns_created, 3},
                        {Counter::icmp_echo_replies, 1},
                        {Counter::arp_replies_sent, 1},
                        {Counter::neigh_learned, 1}},
           .stats = opened(n) + in_pkt(n, nsyn) + opened(d) + in_pkt(d, dsyn) + opened(t) +
                    in_pkt(t, tsyn)});
}

}  // namespace
}  // namespace fulcrum::test
