// SPDX-License-Identifier: Apache-2.0
#include "ring_engine.hpp"

#include <algorithm>
#include <cstring>

#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>

namespace fulcrum::test {

using namespace ipvsgold;

namespace {

constexpr unsigned kRxRing = 1024;
constexpr uint64_t kSettleMs = 5000;

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

PacketBuilder echo_frame(const Mac& smac, const Mac& dmac, uint32_t src, uint32_t dst, uint8_t ttl) {
  return std::move(PacketBuilder().eth(smac, dmac).ipv4(src, dst).ip_id(0x4242).frag(0x4000).ttl(ttl));
}

}  // namespace

Bytes arp_request(const Mac& sha, uint32_t sip, uint32_t tip) {
  return PacketBuilder().eth(sha, kBroadcast).arp(1, sha, sip, kZeroMac, tip).build();
}

Bytes ping(uint16_t seq) {
  return echo_frame(kClientMac, kWanMac, kClient, kWan, 61).icmp_echo_request(0x77, seq).payload_size(24).build();
}

Bytes pong(uint16_t seq) {
  return echo_frame(kWanMac, kClientMac, kWan, kClient, 64).icmp_echo_reply(0x77, seq).payload_size(24).build();
}

void RingEngine::make_ports(std::vector<unsigned> tx_sizes) {
  const char* names[] = {"fl_wan", "fl_lan"};
  ASSERT_LE(tx_sizes.size(), std::size(names));
  ports_.resize(tx_sizes.size());
  std::string err;
  for (size_t i = 0; i < tx_sizes.size(); i++) ASSERT_TRUE(make_ring_port(names[i], tx_sizes[i], ports_[i], err)) << err;
}

void RingEngine::start(EngineConfig cfg, const SnapshotSpec& spec, unsigned garps) {
  const char* names[] = {"wan", "lan"};
  for (size_t i = cfg.ports.size(); i < ports_.size(); i++) cfg.ports.push_back(PortSpec{names[i], ports_[i].device, kMtu});
  std::string err;
  engine_ = Engine::start(cfg, err, &spec);
  ASSERT_NE(engine_, nullptr) << err;
  ASSERT_EQ(engine_->workers(), 1u);
  expected_out_ = garps;
  settle();
  for (uint16_t p = 0; p < ports_.size(); p++) take(p);
}

void RingEngine::TearDown() {
  // A stopped engine's pools are gone: what its rings still hold is not
  // to be freed (or read).
  if (engine_ && engine_->running()) {
    settle();
    for (uint16_t p = 0; p < ports_.size(); p++) take(p);
    engine_->stop();
  }
  for (RingPort& p : ports_) {
    rte_ring_free(p.rx);
    rte_ring_free(p.tx);
  }
}

uint64_t RingEngine::counter(Counter c) const {
  return __atomic_load_n(&engine_->counters()[0].v[size_t(c)], __ATOMIC_RELAXED);
}

uint64_t RingEngine::opackets(uint16_t port) {
  rte_eth_stats st{};
  EXPECT_EQ(rte_eth_stats_get(ring(port).port_id, &st), 0);
  return st.opackets;
}

void RingEngine::receive(uint16_t port, const std::vector<Bytes>& frames) {
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

void RingEngine::settle() {
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

std::vector<Bytes> RingEngine::take(uint16_t port) {
  std::vector<Bytes> out;
  void* p;
  while (rte_ring_dequeue(ring(port).tx, &p) == 0) {
    auto* m = static_cast<rte_mbuf*>(p);
    out.push_back(bytes_of(m));
    rte_pktmbuf_free(m);
  }
  return out;
}

Bytes RingEngine::from(uint16_t port, Bytes f) const {
  Mac m = mac_of(engine_->ports()[port].mac);
  std::copy(m.begin(), m.end(), f.begin() + 6);
  return f;
}

}  // namespace fulcrum::test
