// SPDX-License-Identifier: Apache-2.0
//
// A worker whose tx ring is full (issue #8, "Faults").
//
// Why this level: the behaviour under test is the worker loop's own
// (worker_main: rx burst, process_burst, worker_flush's rte_eth_tx_burst
// and what it does with the packets the device refuses), so the real
// Engine runs here, its worker launched on a second lcore, on two real
// DPDK ethdevs made by rte_eth_from_rings(). This test is the wire: it
// enqueues what a port receives (mbufs from the port's own pool, as a NIC
// fills them) and dequeues what it sends. The lan port's tx ring holds
// kLanTxRing - 1 packets and nobody dequeues it, so it fills and then
// refuses, as a NIC's descriptor ring does when the link stalls. End to end
// with af_packet this cannot be made to happen on purpose: the kernel
// takes whatever the PMD sends.
//
// The scenario, on a NAT service (client on wan, dest on lan):
//   - more SYNs than the lan ring holds: the ring takes what fits, the rest
//     are counted in drop_tx_full (and by the device as oerrors) and freed;
//   - meanwhile pings to the wan address are answered, and the dest's
//     SYN-ACKs arriving on lan are forwarded to the client on wan;
//   - once the ring is drained the client's retransmitted SYNs go out;
//   - at rest every mbuf is back in its pool, the rx rings are empty and
//     the engine still runs (and stops cleanly).
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "engine/engine.hpp"
#include "ipvs_world.hpp"

namespace fulcrum::test {
namespace {

using namespace ipvsgold;

constexpr uint16_t kWanPort = 0, kLanPort = 1;
constexpr unsigned kRxRing = 1024;
constexpr unsigned kWanTxRing = 1024;
constexpr unsigned kLanTxRing = 64;  // an rte_ring of 64 holds 63
constexpr uint16_t kSyns = 100;
constexpr uint16_t kPingEvery = 5;
constexpr uint16_t kFirstPort = 20000;
constexpr unsigned kGarps = 3;  // one per owned address at start: wan, lan, the VIP
constexpr uint64_t kSettleMs = 5000;

// A DPDK port over two rings; the test is on the other side of both.
struct RingPort {
  std::string name;
  std::string device;
  rte_ring* rx = nullptr;  // what the port receives: the test enqueues
  rte_ring* tx = nullptr;  // what the port sends: the test dequeues, or not
  uint16_t port_id = 0;
};

bool make_ring_port(const std::string& name, unsigned tx_size, RingPort& out, std::string& err) {
  out.name = name;
  out.rx = rte_ring_create((name + "_rx").c_str(), kRxRing, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  out.tx = rte_ring_create((name + "_tx").c_str(), tx_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (out.rx == nullptr || out.tx == nullptr) return err = "cannot create the rings of " + name, false;
  int id = rte_eth_from_rings(name.c_str(), &out.rx, 1, &out.tx, 1, SOCKET_ID_ANY);
  if (id < 0) return err = "rte_eth_from_rings " + name + " failed", false;
  out.port_id = uint16_t(id);
  char dev[RTE_ETH_NAME_MAX_LEN];
  if (rte_eth_dev_get_name_by_port(out.port_id, dev) != 0) return err = "no device name for " + name, false;
  out.device = dev;  // the driver's prefix added
  return true;
}

// One NAT service, one dest: client 10.0.0.1 on wan, dest 10.0.1.11 on lan.
SnapshotSpec nat_spec() {
  SnapshotSpec spec;
  spec.addresses = {{kWan, 24, kWanPort}, {kLan, 24, kLanPort}};
  spec.services = {service(kSvcWeb, IPPROTO_TCP, kVip, 80, {dest(kWeb1, kRs1, 8080, FwdMode::kNat)})};
  return spec;
}

Bytes arp_request(const Mac& sha, uint32_t sip, uint32_t tip) {
  return PacketBuilder().eth(sha, kBroadcast).arp(1, sha, sip, kZeroMac, tip).build();
}

// The client's ping of the wan address and the answer it must get.
PacketBuilder echo(const Mac& smac, const Mac& dmac, uint32_t src, uint32_t dst, uint8_t ttl) {
  return std::move(PacketBuilder().eth(smac, dmac).ipv4(src, dst).ip_id(0x4242).frag(0x4000).ttl(ttl));
}
Bytes ping(uint16_t seq) {
  return echo(kClientMac, kWanMac, kClient, kWan, 61).icmp_echo_request(0x77, seq).payload_size(24).build();
}
Bytes pong(uint16_t seq) {
  return echo(kWanMac, kClientMac, kWan, kClient, 64).icmp_echo_reply(0x77, seq).payload_size(24).build();
}

class TxFull : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string err;
    ASSERT_TRUE(make_ring_port("fl_wan", kWanTxRing, wan_, err)) << err;
    ASSERT_TRUE(make_ring_port("fl_lan", kLanTxRing, lan_, err)) << err;
    EngineConfig cfg;
    cfg.ports = {PortSpec{"wan", wan_.device, kMtu}, PortSpec{"lan", lan_.device, kMtu}};
    cfg.setup.mbufs = 1023;
    cfg.setup.mbuf_cache = 32;
    cfg.idle_sleep_us = 100;  // the machine is small: do not spin while idle
    cfg.ipvs.max_conns = 1024;
    cfg.ipvs.max_services = 16;
    cfg.ipvs.max_dests = 32;
    cfg.ipvs.max_laddrs = 4;
    SnapshotSpec spec = nat_spec();
    engine_ = Engine::start(cfg, err, &spec);
    ASSERT_NE(engine_, nullptr) << err;
    ASSERT_EQ(engine_->workers(), 1u);
    expected_out_ = kGarps;
    settle();
    take(kWanPort);
    take(kLanPort);
  }

  void TearDown() override {
    if (engine_) {
      settle();
      take(kWanPort);
      take(kLanPort);
      engine_->stop();
    }
    for (RingPort* p : {&wan_, &lan_}) {
      rte_ring_free(p->rx);
      rte_ring_free(p->tx);
    }
  }

  RingPort& ring(uint16_t port) { return port == kWanPort ? wan_ : lan_; }
  rte_mempool* pool(uint16_t port) const { return engine_->ports()[port].pool; }
  // What the control plane exports as the port's mbuf pool level.
  unsigned in_use(uint16_t port) const { return engine_->mbuf_pools()[port].used; }

  // The worker's counter as the control thread reads it.
  uint64_t counter(Counter c) const {
    return __atomic_load_n(&engine_->counters()[0].v[size_t(c)], __ATOMIC_RELAXED);
  }

  // Packets the device took, by its own statistics.
  uint64_t opackets(uint16_t port) {
    rte_eth_stats st{};
    EXPECT_EQ(rte_eth_stats_get(ring(port).port_id, &st), 0);
    return st.opackets;
  }

  // The frames arrive on port, in one go; each of them makes the worker
  // send exactly one frame (or try to).
  void receive(uint16_t port, const std::vector<Bytes>& frames) {
    std::vector<rte_mbuf*> ms;
    for (const Bytes& f : frames) {
      rte_mbuf* m = rte_pktmbuf_alloc(pool(port));
      ASSERT_NE(m, nullptr) << "pool of port " << port << " empty";
      std::memcpy(rte_pktmbuf_append(m, uint16_t(f.size())), f.data(), f.size());
      ms.push_back(m);
    }
    ASSERT_EQ(rte_ring_enqueue_bulk(ring(port).rx, reinterpret_cast<void**>(ms.data()), unsigned(ms.size()), nullptr),
              ms.size());
    expected_rx_ += frames.size();
    expected_out_ += frames.size();
  }

  // Waits until the worker has handled everything received and sent (or
  // refused) everything it answered.
  void settle() {
    uint64_t deadline = rte_get_tsc_cycles() + rte_get_tsc_hz() / 1000 * kSettleMs;
    auto done = [&] {
      return counter(Counter::rx_packets) == expected_rx_ &&
             counter(Counter::tx_packets) + counter(Counter::drop_tx_full) == expected_out_;
    };
    while (!done() && rte_get_tsc_cycles() < deadline) rte_delay_us_sleep(1000);
    ASSERT_TRUE(done()) << "rx " << counter(Counter::rx_packets) << "/" << expected_rx_ << ", tx "
                        << counter(Counter::tx_packets) << " + refused " << counter(Counter::drop_tx_full)
                        << " of " << expected_out_;
  }

  // The world's frame helpers send from kWanMac and kLanMac; a ring port
  // has a MAC of its own (and takes no other). f as port sends it.
  Bytes from(uint16_t port, Bytes f) const {
    Mac m = mac_of(engine_->ports()[port].mac);
    std::copy(m.begin(), m.end(), f.begin() + 6);
    return f;
  }

  // Everything port sent so far, taken off its tx ring and freed.
  std::vector<Bytes> take(uint16_t port) {
    std::vector<Bytes> out;
    void* p;
    while (rte_ring_dequeue(ring(port).tx, &p) == 0) {
      auto* m = static_cast<rte_mbuf*>(p);
      out.push_back(bytes_of(m));
      rte_pktmbuf_free(m);
    }
    return out;
  }

  RingPort wan_, lan_;
  std::unique_ptr<Engine> engine_;
  uint64_t expected_rx_ = 0, expected_out_ = 0;
};

Flow flow(uint16_t i) { return web_to_rs1(uint16_t(kFirstPort + i)); }

TEST_F(TxFull, RefusedPacketsAreCountedAndFreedTheOtherPortKeepsGoingAndSendingResumes) {
  const unsigned wan_start = in_use(kWanPort), lan_start = in_use(kLanPort);
  const unsigned room = rte_ring_get_capacity(lan_.tx);
  ASSERT_LT(room, kSyns);

  // Both neighbours make themselves known; their answers fit.
  receive(kWanPort, {arp_request(kClientMac, kClient, kWan)});
  receive(kLanPort, {arp_request(kRs1Mac, kRs1, kLan)});
  settle();
  ASSERT_EQ(take(kWanPort).size(), 1u);
  ASSERT_EQ(take(kLanPort).size(), 1u);

  // More SYNs than the lan ring holds, pings in between.
  std::vector<Bytes> in;
  std::vector<Bytes> pongs;
  for (uint16_t i = 0; i < kSyns; i++) {
    in.push_back(flow(i).c2v(kSyn));
    if (i % kPingEvery == 0) in.push_back(ping(i)), pongs.push_back(from(kWanPort, pong(i)));
  }
  const uint64_t lan_sent = opackets(kLanPort);
  receive(kWanPort, in);
  settle();
  EXPECT_EQ(rte_ring_count(lan_.tx), room) << "the lan ring is not full";
  EXPECT_EQ(opackets(kLanPort) - lan_sent, room) << "the device took more or less than its ring holds";
  EXPECT_EQ(counter(Counter::drop_tx_full), kSyns - room);
  EXPECT_EQ(take(kWanPort), pongs) << "pings on wan went unanswered while lan was full";

  // Still full: the dest answers the SYNs it got; the SYN-ACKs reach the
  // client through wan. Its ARP request meets the full ring: refused.
  std::vector<Bytes> acks, to_client;
  for (uint16_t i = 0; i < room; i++) acks.push_back(flow(i).d2c(kSyn | kAck)), to_client.push_back(from(kWanPort, flow(i).nat_to_client(kSyn | kAck)));
  acks.push_back(arp_request(kRs1Mac, kRs1, kLan));
  receive(kLanPort, acks);
  settle();
  EXPECT_EQ(take(kWanPort), to_client) << "forwarding to wan stopped while lan was full";
  EXPECT_EQ(counter(Counter::drop_tx_full), kSyns - room + 1);

  // The ring drains: it held the first SYNs, in order. The client
  // retransmits the refused ones, and now they go out.
  std::vector<Bytes> held, resent, to_dest;
  for (uint16_t i = 0; i < room; i++) held.push_back(from(kLanPort, flow(i).nat_to_dest(kSyn)));
  EXPECT_EQ(take(kLanPort), held);
  for (uint16_t i = uint16_t(room); i < kSyns; i++) resent.push_back(flow(i).c2v(kSyn)), to_dest.push_back(from(kLanPort, flow(i).nat_to_dest(kSyn)));
  receive(kWanPort, resent);
  settle();
  EXPECT_EQ(take(kLanPort), to_dest) << "sending did not resume once the ring drained";
  EXPECT_EQ(counter(Counter::drop_tx_full), kSyns - room + 1) << "refused with room in the ring";

  // At rest: nothing left on the wire, every mbuf back in its pool.
  EXPECT_EQ(rte_ring_count(wan_.rx) + rte_ring_count(lan_.rx), 0u);
  EXPECT_EQ(in_use(kWanPort), wan_start) << "wan mbufs leaked";
  EXPECT_EQ(in_use(kLanPort), lan_start) << "lan mbufs leaked";
  EXPECT_EQ(counter(Counter::conns_created), kSyns);
  EXPECT_TRUE(engine_->running());
}

}  // namespace
}  // namespace fulcrum::test
