// SPDX-License-Identifier: Apache-2.0
//
// The real Engine on ports made of rte_rings, with the test as the wire.
//
// Engine tests cover what only the worker loop does (worker_main: rx
// burst, process_burst, when and how the tx batches go out), so the
// Engine runs with its worker launched on the second lcore, on DPDK
// ethdevs made by rte_eth_from_rings(). The test enqueues what a port
// receives (mbufs from the port's own pool, as a NIC fills them) and
// dequeues what it sends. Each test runs in its own process (the engine
// starts once per process), so ring and device names need not differ
// between tests.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rte_ring.h>

#include "engine/engine.hpp"
#include "ipvs_world.hpp"

namespace fulcrum::test {

// A DPDK port over two rings; the test is on the other side of both.
struct RingPort {
  std::string name;
  std::string device;
  rte_ring* rx = nullptr;  // what the port receives: the test enqueues
  rte_ring* tx = nullptr;  // what the port sends: the test dequeues, or not
  uint16_t port_id = 0;
};

class RingEngine : public ::testing::Test {
 protected:
  // Ports named wan (index 0) and lan (index 1), whose tx rings have room
  // for tx_sizes[i] - 1 packets.
  void make_ports(std::vector<unsigned> tx_sizes);
  // Starts the engine on the ports with cfg (ports, pools filled in when
  // empty), publishing spec first; one worker. Then waits for the
  // gratuitous ARPs of the `garps` owned addresses and takes them.
  void start(EngineConfig cfg, const SnapshotSpec& spec, unsigned garps);
  // Settles, takes what the ports sent and stops the engine, unless the
  // test stopped it already.
  void TearDown() override;

  RingPort& ring(uint16_t port) { return ports_[port]; }
  rte_mempool* pool(uint16_t port) const { return engine_->ports()[port].pool; }
  // What the control plane exports as the port's mbuf pool level.
  unsigned in_use(uint16_t port) const { return engine_->mbuf_pools()[port].used; }
  // The worker's counter as the control thread reads it.
  uint64_t counter(Counter c) const;
  // Packets the device took, by its own statistics.
  uint64_t opackets(uint16_t port);

  // The frames arrive on port, in one go; each of them makes the worker
  // send exactly one frame (or try to).
  void receive(uint16_t port, const std::vector<Bytes>& frames);
  // Waits (up to 5 s) until the worker has handled everything received
  // and sent (or refused) everything it answered.
  void settle();
  // Everything port sent so far, taken off its tx ring and freed.
  std::vector<Bytes> take(uint16_t port);
  // The world's frame helpers send from kWanMac and kLanMac; a ring port
  // has a MAC of its own (and takes no other). f as port sends it.
  Bytes from(uint16_t port, Bytes f) const;

  std::vector<RingPort> ports_;
  std::unique_ptr<Engine> engine_;
  uint64_t expected_rx_ = 0, expected_out_ = 0;
};

// The client's ARP request for tip, and its ping of the wan address with
// the answer it must get (as the world's wan MAC sends it: see from()).
Bytes arp_request(const Mac& sha, uint32_t sip, uint32_t tip);
Bytes ping(uint16_t seq);
Bytes pong(uint16_t seq);

}  // namespace fulcrum::test
