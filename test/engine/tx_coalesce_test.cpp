// SPDX-License-Identifier: Apache-2.0
//
// Tx coalescing (dataplane.ports[].tx_coalesce_us, worker.hpp): a port's
// batch goes out when it holds a burst or once its oldest packet has
// waited the port's coalescing time, and whatever it holds goes out when
// the engine stops.
//
// The worker loop decides when a batch is sent, so the real Engine runs
// here on a port made of rings (ring_engine.hpp). The coalescing time is a
// whole second, so that what is measured (held for a second, or not held)
// stands far apart from how late a busy test machine may run the worker.
#include <vector>

#include <gtest/gtest.h>
#include <rte_cycles.h>
#include <rte_ring.h>

#include "ring_engine.hpp"

namespace fulcrum::test {
namespace {

using namespace ipvsgold;

constexpr uint16_t kWanPort = 0;
constexpr uint32_t kHoldUs = 1'000'000;

double ms_since(uint64_t tsc) { return double(rte_get_tsc_cycles() - tsc) * 1000.0 / double(rte_get_tsc_hz()); }

class TxCoalesce : public RingEngine {
 protected:
  void SetUp() override {
    make_ports({1024});
    EngineConfig cfg;
    cfg.ports = {PortSpec{"wan", ring(kWanPort).device, kMtu, kHoldUs}};
    cfg.setup.mbufs = 1023;
    cfg.setup.mbuf_cache = 32;
    cfg.idle_sleep_us = 100;  // the machine is small: do not spin while idle
    cfg.ipvs.max_conns = 1024;
    SnapshotSpec spec;
    spec.addresses = {{kWan, 24, kWanPort}};
    start(cfg, spec, 1);
    // The client makes itself known; the worker's answer waits its second too.
    receive(kWanPort, {arp_request(kClientMac, kClient, kWan)});
    settle();
    ASSERT_EQ(take(kWanPort).size(), 1u);
  }

  // Waits up to 5 s for n frames on wan's tx ring; returns them.
  std::vector<Bytes> wait_for(size_t n) {
    std::vector<Bytes> got;
    uint64_t deadline = rte_get_tsc_cycles() + rte_get_tsc_hz() * 5;
    while (got.size() < n && rte_get_tsc_cycles() < deadline) {
      for (Bytes& b : take(kWanPort)) got.push_back(std::move(b));
      if (got.size() < n) rte_delay_us_sleep(1000);
    }
    return got;
  }
};

TEST_F(TxCoalesce, ALonePacketWaitsItsCoalescingTime) {
  uint64_t sent = rte_get_tsc_cycles();
  receive(kWanPort, {ping(1)});
  rte_delay_us_sleep(300'000);
  EXPECT_EQ(counter(Counter::icmp_echo_replies), 1u) << "the worker did not answer the ping";
  EXPECT_EQ(rte_ring_count(ring(kWanPort).tx), 0u) << "the reply went out before its coalescing time";
  EXPECT_EQ(wait_for(1), std::vector<Bytes>{from(kWanPort, pong(1))});
  EXPECT_GE(ms_since(sent), 900.0) << "the reply waited less than its coalescing time";
}

TEST_F(TxCoalesce, ABurstGoesAtOnce) {
  std::vector<Bytes> pings, pongs;
  for (uint16_t i = 0; i < kBurst; i++) pings.push_back(ping(i)), pongs.push_back(from(kWanPort, pong(i)));
  uint64_t sent = rte_get_tsc_cycles();
  receive(kWanPort, pings);
  EXPECT_EQ(wait_for(kBurst), pongs);
  EXPECT_LT(ms_since(sent), 500.0) << "a full burst waited for the coalescing time";
}

// Engine::stop() closes the port, and its pool with it, right after the
// worker has returned: the reply is then a count on the device's ring,
// not a frame this test may still read.
TEST_F(TxCoalesce, WhatIsHeldGoesOutWhenTheEngineStops) {
  receive(kWanPort, {ping(7)});
  uint64_t deadline = rte_get_tsc_cycles() + rte_get_tsc_hz() * 5;
  while (counter(Counter::icmp_echo_replies) == 0 && rte_get_tsc_cycles() < deadline) rte_delay_us_sleep(1000);
  ASSERT_EQ(counter(Counter::icmp_echo_replies), 1u) << "the worker did not answer the ping";
  ASSERT_EQ(rte_ring_count(ring(kWanPort).tx), 0u) << "the reply was not held";
  engine_->stop();
  EXPECT_EQ(rte_ring_count(ring(kWanPort).tx), 1u) << "the held reply did not go out at stop";
  EXPECT_EQ(counter(Counter::tx_packets), expected_out_) << "the reply was not counted as sent";
  EXPECT_EQ(counter(Counter::drop_tx_full), 0u);
}

}  // namespace
}  // namespace fulcrum::test
