// SPDX-License-Identifier: Apache-2.0
//
// Leak check (issue #8): a long seeded mixed run through process_burst()
// on the IPVS test world (test/support/ipvs_world.hpp), after which every
// pool is back at its starting level, exactly: the connection table (so
// also persistence templates), each local address's ports, the SYN proxy's
// state objects, both mbuf pools, and the gauges of every dest and service
// row.
//
// The run plays clients and dests against every kind of service of the
// world: NAT, DR, TUN, persistent (per /24, port-zero, FTP), FULLNAT with
// each client-address mode, UDP both ways, the SYN proxy. Connections are
// opened and closed in order, reset from either side, refused by the dest,
// or abandoned to expire; dests answer UDP with port-unreachable errors;
// new snapshots quiesce, remove and add dests under traffic; time moves on
// in small and large steps with expiry running as the worker runs it.
// Each dest learns the tuple it sees from the frame the balancer sent it,
// as a real one would. At the end time passes beyond every timeout.
//
// ctest runs a short form (LeakCheck.*). scripts/soak-leak.sh runs the long
// form: FULCRUM_LEAK_STEPS steps (default here 10000) for each seed in
// FULCRUM_LEAK_SEEDS (default "1 2").
#include <netinet/in.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <random>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>

#include "ipvs_world.hpp"
#include "rx_mbuf.hpp"

namespace fulcrum::test {
namespace {

using namespace ipvsgold;

constexpr uint32_t kMaxConnsHere = 4096;
constexpr uint32_t kWebExtra = 17;  // the dest the churn adds to the web service
constexpr uint32_t kLaddrIds[] = {kLaddrId, kLaddrToaId, kLaddrProxyId};

uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != 0 ? std::strtoull(v, nullptr, 10) : fallback;
}

std::vector<uint64_t> env_seeds() {
  std::vector<uint64_t> seeds;
  std::istringstream in(std::getenv("FULCRUM_LEAK_SEEDS") ? std::getenv("FULCRUM_LEAK_SEEDS") : "1 2");
  for (uint64_t s; in >> s;) seeds.push_back(s);
  return seeds;
}

uint32_t rd32(const Bytes& f, size_t off) {
  uint32_t v;
  std::memcpy(&v, f.data() + off, 4);
  return v;  // network order, as addresses are kept
}
uint16_t rd16(const Bytes& f, size_t off) { return uint16_t(f[off] << 8 | f[off + 1]); }

// A kind of service the clients use.
struct Target {
  uint8_t proto;
  uint32_t vip;
  uint16_t vport;  // 0: any port (the port-zero service)
  bool replies;    // the dest's replies pass through the balancer (not DR/TUN)
  bool synproxy;
};
const Target kTargets[] = {
    {IPPROTO_TCP, kVip, 80, true, false},       {IPPROTO_UDP, kVip, 53, true, false},
    {IPPROTO_TCP, kVipDr, 80, false, false},    {IPPROTO_TCP, kVipTun, 80, false, false},
    {IPPROTO_TCP, kVipSticky, 80, true, false}, {IPPROTO_TCP, kVipAnyPort, 0, true, false},
    {IPPROTO_TCP, kVipAnyPort, 21, true, false}, {IPPROTO_TCP, kVipFnat, 80, true, false},
    {IPPROTO_UDP, kVipFnat, 53, true, false},   {IPPROTO_TCP, kVipToa, 80, true, false},
    {IPPROTO_TCP, kVipProxy, 80, true, false},  {IPPROTO_TCP, kVipSynproxy, 80, true, true},
};

// One flow the run keeps going, as the client and the dest know it.
struct Live {
  Target t;
  uint32_t caddr;
  Mac cmac;
  uint16_t cport, vport;
  uint32_t isn;
  int phase = 0;        // TCP: 0 SYN sent, 1 answered, 2 client ACKed, 3 client FIN, 4 both FIN
  uint32_t cookie = 0;  // SYN proxy: our ISN towards the client
  bool dest_known = false;
  Mac dmac{};           // what the dest sees: its own address, the peer's
  uint32_t daddr = 0, peer = 0;
  uint16_t dport = 0, peer_port = 0;
};

struct Levels {
  uint32_t conns = 0, templates = 0;
  std::vector<uint64_t> laddr_used;
  unsigned sp_free = 0, tx_free = 0;
  bool rx_full = false;
  std::vector<uint64_t> gauges;  // every dest's active, inactive, persistent; every service's live
};

class LeakCheck : public ::testing::Test, protected IpvsWorld {
 protected:
  void SetUp() override {
    std::string err;
    ASSERT_TRUE(build(err, kMaxConnsHere)) << err;
  }
  void TearDown() override { teardown(); }

  Levels levels() const {
    Levels l;
    l.conns = ipvs_->conns->size();
    ConnFilter tf;
    tf.templates = 1;
    l.templates = uint32_t(ipvs_dump(*ipvs_, tf).size());
    for (uint32_t id : kLaddrIds) l.laddr_used.push_back(laddr_rows_[id].get(LaddrStat::used));
    l.sp_free = rte_mempool_avail_count(ipvs_->sp_pool);
    l.tx_free = rte_mempool_avail_count(test_pool());
    l.rx_full = rx_pool_full();
    for (const DestStats& d : dest_rows_)
      for (DestStat s : {DestStat::active, DestStat::inactive, DestStat::persistent}) l.gauges.push_back(d.get(s));
    for (const ServiceStats& s : svc_rows_) l.gauges.push_back(s.get(ServiceStat::live));
    return l;
  }

  void expect_levels(const Levels& want, const char* when) {
    Levels got = levels();
    EXPECT_EQ(got.conns, want.conns) << when << ": connections (and templates) in the table";
    EXPECT_EQ(got.templates, want.templates) << when << ": persistence templates";
    EXPECT_EQ(got.laddr_used, want.laddr_used) << when << ": local ports in use per address";
    EXPECT_EQ(got.sp_free, want.sp_free) << when << ": SYN proxy state objects free";
    EXPECT_EQ(got.tx_free, want.tx_free) << when << ": originated mbufs free";
    EXPECT_EQ(got.rx_full, want.rx_full) << when << ": received mbufs all back";
    EXPECT_EQ(got.gauges, want.gauges) << when << ": dest/service gauges";
  }

  // ---- the run ------------------------------------------------------

  uint32_t rnd(uint32_t n) { return uint32_t(rng_() % n); }
  bool chance(uint32_t percent) { return rnd(100) < percent; }

  Bytes tcp_frame(const Mac& smac, const Mac& dmac, uint32_t src, uint16_t sport, uint32_t dst,
                  uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack, size_t payload) {
    PacketBuilder b;
    b.eth(smac, dmac).ipv4(src, dst).ttl(61).frag(0x4000).tcp(sport, dport, flags, seq, ack);
    return b.payload_size(payload).build();
  }
  Bytes udp_frame(const Mac& smac, const Mac& dmac, uint32_t src, uint16_t sport, uint32_t dst,
                  uint16_t dport, size_t payload) {
    PacketBuilder b;
    b.eth(smac, dmac).ipv4(src, dst).ttl(61).udp(sport, dport);
    return b.payload_size(payload).build();
  }
  Bytes from_client(const Live& f, uint8_t flags, uint32_t seq, uint32_t ack, size_t payload = 0) {
    if (f.t.proto == IPPROTO_UDP) return udp_frame(f.cmac, kWanMac, f.caddr, f.cport, f.t.vip, f.vport, payload + 8);
    return tcp_frame(f.cmac, kWanMac, f.caddr, f.cport, f.t.vip, f.vport, flags, seq, ack, payload);
  }
  Bytes from_dest(const Live& f, uint8_t flags, uint32_t seq, uint32_t ack, size_t payload = 0) {
    if (f.t.proto == IPPROTO_UDP) return udp_frame(f.dmac, kLanMac, f.daddr, f.dport, f.peer, f.peer_port, payload + 8);
    return tcp_frame(f.dmac, kLanMac, f.daddr, f.dport, f.peer, f.peer_port, flags, seq, ack, payload);
  }
  // The dest's port-unreachable about the datagram it got (its first 28 bytes).
  Bytes unreachable(const Live& f) {
    Bytes quote = ip_packet(udp_frame(kLanMac, f.dmac, f.peer, f.peer_port, f.daddr, f.dport, 8));
    quote.resize(28);
    return PacketBuilder().eth(f.dmac, kLanMac).ipv4(f.daddr, f.peer).icmp(3, 3).payload(quote).build();
  }

  // Receives one frame on its own and returns what each port sent.
  void one(uint16_t port, const Bytes& f, std::vector<Bytes>* out0, std::vector<Bytes>* out1) {
    rte_mbuf* m = rx_mbuf(f.data(), f.size(), chance(5) ? 1 + rnd(uint32_t(f.size() - 1)) : 0);
    process_burst(*ctx_, port, &m, 1);
    std::vector<Bytes> o0 = take_output(0), o1 = take_output(1);
    if (out0 != nullptr) *out0 = std::move(o0);
    if (out1 != nullptr) *out1 = std::move(o1);
  }

  // The dest side learns its view of the flow from the frame it was sent.
  static void learn(Live& f, const std::vector<Bytes>& to_dests) {
    if (to_dests.empty() || !f.t.replies) return;
    const Bytes& s = to_dests.back();
    std::copy(s.begin(), s.begin() + 6, f.dmac.begin());
    f.peer = rd32(s, 26);
    f.daddr = rd32(s, 30);
    f.peer_port = rd16(s, 34);
    f.dport = rd16(s, 36);
    f.dest_known = true;
  }

  void open() {
    Live f{kTargets[rnd(std::size(kTargets))], 0, {}, 0, 0, uint32_t(rng_())};
    if (chance(30)) f.caddr = kClient, f.cmac = kClientMac;
    else f.caddr = htonl(ntohl(kFarNet) | (1 + rnd(200)) << 8 | (1 + rnd(6))), f.cmac = kRouterMac;
    f.cport = uint16_t(1024 + rnd(60000));
    f.vport = f.t.vport != 0 ? f.t.vport : uint16_t(1000 + rnd(3));
    std::vector<Bytes> o0, o1;
    if (f.t.proto == IPPROTO_UDP) {
      one(0, from_client(f, 0, 0, 0, 20), nullptr, &o1);
      learn(f, o1);
      live_.push_back(f);
      return;
    }
    one(0, from_client(f, kSyn, f.isn, 0), &o0, &o1);
    if (f.t.synproxy) {
      if (o0.size() != 1) return;  // no cookie: nothing was made
      f.cookie = ntohl(rd32(o0[0], kEthLen + 20 + 4));
      if (chance(10)) return;      // the client never completes the handshake
      one(0, from_client(f, kAck, f.isn + 1, f.cookie + 1, chance(20) ? 30 : 0), nullptr, &o1);
    }
    learn(f, o1);
    live_.push_back(f);
  }

  // One packet of a live flow, the next its phase allows; false when the
  // flow ends here (closed, reset, or abandoned to expire).
  bool advance(Live& f, std::vector<Bytes>& in0, std::vector<Bytes>& in1) {
    if (chance(3)) return false;  // abandoned: left to expire in whatever state
    uint32_t cseq = f.isn + 1, dseq = 0x5000 + f.isn;
    uint32_t cack = f.t.synproxy ? f.cookie + 1 : dseq + 1;  // what the client acknowledges
    bool dest = f.t.replies && f.dest_known;
    if (f.t.proto == IPPROTO_UDP) {
      if (!dest || chance(50)) in0.push_back(from_client(f, 0, 0, 0, 10 + rnd(50)));
      else if (chance(10)) in1.push_back(unreachable(f));
      else in1.push_back(from_dest(f, 0, 0, 0, 10 + rnd(50)));
      return true;
    }
    if (!f.t.replies && f.phase == 0) f.phase = 1;  // DR/TUN: the client goes on blind
    switch (f.phase) {
      case 0:
        if (!dest) return false;
        if (chance(10)) return in1.push_back(from_dest(f, kRst | kAck, 0, f.isn + 1)), false;  // refused
        in1.push_back(from_dest(f, kSyn | kAck, dseq, f.isn + 1));
        break;
      case 1: in0.push_back(from_client(f, kAck | kPsh, cseq, cack, 40)); break;
      case 2:
        if (chance(10)) return in0.push_back(from_client(f, kRst | kAck, cseq + 40, cack)), false;
        if (dest && chance(50)) return in1.push_back(from_dest(f, kAck | kPsh, dseq + 1, cseq + 40, 100)), true;
        in0.push_back(from_client(f, kFin | kAck, cseq + 40, cack));
        break;
      case 3:
        if (!dest) return false;  // DR/TUN: the client's FIN was the last we see
        in1.push_back(from_dest(f, kFin | kAck, dseq + 1, cseq + 41));
        break;
      default: in0.push_back(from_client(f, kAck, cseq + 41, cack + 1)); return false;
    }
    f.phase++;
    return true;
  }

  // Dests quiesced, removed and added, as reloads under traffic.
  void churn() {
    SnapshotSpec spec = ipvs_spec(rnd(3), rnd(3));
    auto& web = spec.services[kSvcWeb].dests;
    if (chance(30)) web.erase(web.begin() + 1);                            // dest 1 removed
    if (chance(40)) web.push_back(dest(kWebExtra, kRs2, 8081, FwdMode::kNat));  // a dest added
    if (chance(30)) {  // a dest of a persistent service removed, its templates left behind
      auto& sticky = spec.services[kSvcSticky].dests;
      sticky.erase(sticky.begin());
    }
    std::string err;
    ASSERT_TRUE(switch_to(spec, err)) << err;
  }

  void step() {
    if (live_.size() < 200 && chance(40)) open();
    std::vector<Bytes> in0, in1;
    for (size_t i = 0; i < live_.size() && in0.size() < 16 && in1.size() < 16;) {
      if (!chance(25)) {
        i++;
        continue;
      }
      if (advance(live_[i], in0, in1)) i++;
      else live_.erase(live_.begin() + long(i));
    }
    burst(0, in0);
    burst(1, in1);
    now_ms_ += chance(2) ? 5'000 + rnd(120'000) : rnd(200);
    at(now_ms_);
    ipvs_expire(*ctx_);
    take_output(0), take_output(1);
    if (chance(1)) churn();
  }

  void burst(uint16_t port, const std::vector<Bytes>& frames) {
    std::vector<rte_mbuf*> ms;
    for (const Bytes& f : frames) ms.push_back(rx_mbuf(f.data(), f.size(), 0));
    if (!ms.empty()) process_burst(*ctx_, port, ms.data(), uint16_t(ms.size()));
    take_output(0), take_output(1);
  }

  // Time passes beyond every timeout (TCP ESTABLISHED 900 s, persistence
  // 300 s, SYN proxy retries), expiry running as the worker runs it.
  void drain() {
    for (uint64_t end = now_ms_ + 2'000'000; now_ms_ < end && ipvs_->conns->size() > 0;) {
      now_ms_ += 1'000;
      at(now_ms_);
      for (int i = 0; i < 8; i++) ipvs_expire(*ctx_);
      take_output(0), take_output(1);
    }
  }

  void run(uint64_t seed, uint64_t steps) {
    rng_.seed(seed);
    live_.clear();
    const Levels start = levels();
    uint32_t peak = 0, peak_sp = 0;
    for (uint64_t i = 0; i < steps && !HasFatalFailure(); i++) {
      step();
      peak = std::max(peak, ipvs_->conns->size());
      peak_sp = std::max(peak_sp, start.sp_free - rte_mempool_avail_count(ipvs_->sp_pool));
      // Nothing the dataplane originates is kept: every ARP is answered.
      ASSERT_EQ(rte_mempool_avail_count(test_pool()), start.tx_free) << "step " << i;
    }
    {  // The run must have exercised what it claims to.
      const LcoreCounters& c = *ctr_;
      EXPECT_GT(c.v[size_t(Counter::conns_created)], steps / 10);
      EXPECT_GT(c.v[size_t(Counter::conns_expired)], 0u);
      EXPECT_GT(c.v[size_t(Counter::synproxy_established)], 0u);
      EXPECT_GT(c.v[size_t(Counter::icmp_errors_translated)], 0u);
      EXPECT_GT(peak, 100u) << "the table never filled much";
      EXPECT_GT(peak_sp, 0u);
      bool laddr_used = false;
      for (uint32_t id : kLaddrIds) laddr_used |= laddr_rows_[id].get(LaddrStat::conns) > 0;
      EXPECT_TRUE(laddr_used);
    }
    live_.clear();
    drain();
    expect_levels(start, "after the run, everything expired");
    std::cout << "seed " << seed << ": " << steps << " steps, " << ctr_->v[size_t(Counter::conns_created)]
              << " connections, peak " << peak << " in the table, " << now_ms_ / 1000 << " s of IPVS time\n";
  }

  std::mt19937_64 rng_;
  std::vector<Live> live_;
  uint64_t now_ms_ = 0;
};

TEST_F(LeakCheck, EveryPoolIsBackAtItsStartingLevelAfterAMixedRun) {
  for (uint64_t seed : env_seeds()) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    run(seed, env_u64("FULCRUM_LEAK_STEPS", 10000));
    if (HasFailure()) return;
    // The next seed starts from a fresh world, as the first did.
    stop();
    std::string err;
    ASSERT_TRUE(start(err, kMaxConnsHere)) << err;
    now_ms_ = 0;
  }
}

}  // namespace
}  // namespace fulcrum::test
