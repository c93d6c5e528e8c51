// SPDX-License-Identifier: Apache-2.0
//
// A worker whose tx ring is full (issue #8, "Faults").
//
// Why this level: the behaviour under test is the worker loop's own
// (worker_main: rx burst, process_burst, worker_flush's rte_eth_tx_burst
// and what it does with the packets the device refuses), so the real
// Engine runs here on two ports made of rings, the test being the wire
// (ring_engine.hpp). The lan port's tx ring holds
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

#include <vector>

#include <gtest/gtest.h>
#include <rte_ring.h>

#include "ring_engine.hpp"

namespace fulcrum::test {
namespace {

using namespace ipvsgold;

constexpr uint16_t kWanPort = 0, kLanPort = 1;
constexpr unsigned kWanTxRing = 1024;
constexpr unsigned kLanTxRing = 64;  // an rte_ring of 64 holds 63
constexpr uint16_t kSyns = 100;
constexpr uint16_t kPingEvery = 5;
constexpr uint16_t kFirstPort = 20000;
constexpr unsigned kGarps = 3;  // one per owned address at start: wan, lan, the VIP

// One NAT service, one dest: client 10.0.0.1 on wan, dest 10.0.1.11 on lan.
SnapshotSpec nat_spec() {
  SnapshotSpec spec;
  spec.addresses = {{kWan, 24, kWanPort}, {kLan, 24, kLanPort}};
  spec.services = {service(kSvcWeb, IPPROTO_TCP, kVip, 80, {dest(kWeb1, kRs1, 8080, FwdMode::kNat)})};
  return spec;
}

class TxFull : public RingEngine {
 protected:
  void SetUp() override {
    make_ports({kWanTxRing, kLanTxRing});
    EngineConfig cfg;
    cfg.setup.mbufs = 1023;
    cfg.setup.mbuf_cache = 32;
    cfg.idle_sleep_us = 100;  // the machine is small: do not spin while idle
    cfg.ipvs.max_conns = 1024;
    cfg.ipvs.max_services = 16;
    cfg.ipvs.max_dests = 32;
    cfg.ipvs.max_laddrs = 4;
    start(cfg, nat_spec(), kGarps);
  }
};

Flow flow(uint16_t i) { return web_to_rs1(uint16_t(kFirstPort + i)); }

TEST_F(TxFull, RefusedPacketsAreCountedAndFreedTheOtherPortKeepsGoingAndSendingResumes) {
  const unsigned wan_start = in_use(kWanPort), lan_start = in_use(kLanPort);
  const unsigned room = rte_ring_get_capacity(ring(kLanPort).tx);
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
  EXPECT_EQ(rte_ring_count(ring(kLanPort).tx), room) << "the lan ring is not full";
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
  EXPECT_EQ(rte_ring_count(ring(kWanPort).rx) + rte_ring_count(ring(kLanPort).rx), 0u);
  EXPECT_EQ(in_use(kWanPort), wan_start) << "wan mbufs leaked";
  EXPECT_EQ(in_use(kLanPort), lan_start) << "lan mbufs leaked";
  EXPECT_EQ(counter(Counter::conns_created), kSyns);
  EXPECT_TRUE(engine_->running());
}

}  // namespace
}  // namespace fulcrum::test
