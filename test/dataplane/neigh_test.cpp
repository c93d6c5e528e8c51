// SPDX-License-Identifier: Apache-2.0
//
// The neighbour table owns packets while ARP resolves, so besides the
// state machine (ask, hold, learn, retry, give up, expire) these tests
// check that every held mbuf comes back exactly once: released in order,
// given up, or freed by the destructor.
#include <arpa/inet.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "net/neigh.hpp"
#include "frame_expect.hpp"

namespace fulcrum::test {
namespace {

constexpr uint64_t kRetry = 100;
constexpr uint64_t kReachable = 1000;
constexpr uint64_t kT0 = 10000;

const uint32_t kA = ip("10.0.0.5");
const uint32_t kB = ip("10.0.0.6");
const Mac kMacA = mac("02:bb:00:00:00:05");
const Mac kMacA2 = mac("02:bb:00:00:00:55");

// Records what tick() asks the caller to do.
class Recorder final : public NeighActions {
 public:
  void ask(uint16_t port, uint32_t ip) override { asks.emplace_back(port, ip); }
  void give_up(uint16_t, uint32_t ip, rte_mbuf* held) override {
    given_up_ips.push_back(ip);
    given_up.push_back(held);
  }
  ~Recorder() override {
    for (rte_mbuf* m : given_up) rte_pktmbuf_free(m);
  }
  std::vector<std::pair<uint16_t, uint32_t>> asks;
  std::vector<uint32_t> given_up_ips;
  std::vector<rte_mbuf*> given_up;
};

class NeighTest : public ::testing::Test {
 protected:
  std::unique_ptr<NeighTable> make(uint32_t max = 16, uint8_t hold = 4, uint8_t retries = 3) {
    NeighConfig cfg;
    cfg.max = max;
    cfg.reachable_tsc = kReachable;
    cfg.retry_tsc = kRetry;
    cfg.retries = retries;
    cfg.hold = hold;
    std::string err;
    auto t = NeighTable::create(cfg, unique_name("neigh_t").c_str(), SOCKET_ID_ANY, err);
    EXPECT_NE(t, nullptr) << err;
    return t;
  }
  rte_mbuf* pkt() {
    rte_mbuf* m = rte_pktmbuf_alloc(test_pool());
    EXPECT_NE(m, nullptr);
    return m;
  }
  NeighResult resolve(NeighTable& t, uint32_t ip, rte_mbuf* m, uint64_t now = kT0,
                      uint16_t port = 0) {
    ask = false;
    return t.resolve(port, ip, now, m, resolved_mac, ask);
  }
  uint16_t learn(NeighTable& t, uint32_t ip, const Mac& m, bool create, uint64_t now = kT0,
                 uint16_t port = 0) {
    released.assign(64, nullptr);
    uint16_t n = t.learn(port, ip, ether(m), create, now, released.data(), 64);
    released.resize(n);
    return n;
  }
  void free_released() {
    for (rte_mbuf* m : released) rte_pktmbuf_free(m);
    released.clear();
  }

  PoolLeakCheck leaks;  // first member: checked after everything else is gone
  rte_ether_addr resolved_mac{};
  bool ask = false;
  std::vector<rte_mbuf*> released;
};

TEST_F(NeighTest, UnknownNeighbourIsHeldAndAskedOnce) {
  auto t = make();
  EXPECT_EQ(resolve(*t, kA, pkt()), NeighResult::kHeld);
  EXPECT_TRUE(ask) << "first packet to an unknown neighbour must trigger an ARP request";
  EXPECT_EQ(resolve(*t, kA, pkt()), NeighResult::kHeld);
  EXPECT_FALSE(ask) << "the request is already out";
  auto rows = t->dump();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].state, NeighState::kIncomplete);
  EXPECT_EQ(rows[0].held, 2);
}

TEST_F(NeighTest, HoldsUpToTheLimitThenHoldFull) {
  auto t = make(16, 4);
  for (int i = 0; i < 4; i++) ASSERT_EQ(resolve(*t, kA, pkt()), NeighResult::kHeld) << i;
  rte_mbuf* extra = pkt();
  EXPECT_EQ(resolve(*t, kA, extra), NeighResult::kHoldFull);
  EXPECT_FALSE(ask);
  rte_pktmbuf_free(extra);  // kHoldFull leaves it to the caller
  EXPECT_EQ(t->dump()[0].held, 4);
}

// The config allows hold = 0: nothing waits for ARP, but ARP still goes out.
TEST_F(NeighTest, HoldZeroAsksButHoldsNothing) {
  auto t = make(16, 0);
  rte_mbuf* m = pkt();
  EXPECT_EQ(resolve(*t, kA, m), NeighResult::kHoldFull);
  EXPECT_TRUE(ask);
  EXPECT_EQ(learn(*t, kA, kMacA, true), 0);
  EXPECT_EQ(resolve(*t, kA, m), NeighResult::kReady);
  rte_pktmbuf_free(m);
}

TEST_F(NeighTest, LearnReleasesExactlyTheHeldPacketsInOrder) {
  auto t = make();
  std::vector<rte_mbuf*> sent = {pkt(), pkt(), pkt()};
  for (rte_mbuf* m : sent) ASSERT_EQ(resolve(*t, kA, m), NeighResult::kHeld);
  ASSERT_EQ(learn(*t, kA, kMacA, true), 3);
  EXPECT_EQ(released, sent);
  free_released();
  rte_mbuf* m = pkt();
  EXPECT_EQ(resolve(*t, kA, m), NeighResult::kReady);
  EXPECT_FALSE(ask);
  EXPECT_EQ(mac_of(resolved_mac), kMacA);
  rte_pktmbuf_free(m);  // kReady leaves it to the caller
  EXPECT_EQ(learn(*t, kA, kMacA, true), 0) << "nothing is held any more";
}

TEST_F(NeighTest, LearnWithoutCreateIgnoresUnknownButUpdatesKnown) {
  auto t = make();
  EXPECT_EQ(learn(*t, kA, kMacA, false), 0);
  EXPECT_EQ(t->size(), 0u) << "ARP not meant for us must not add entries";

  // Known but incomplete: create=false still completes it.
  rte_mbuf* held = pkt();
  ASSERT_EQ(resolve(*t, kA, held), NeighResult::kHeld);
  ASSERT_EQ(learn(*t, kA, kMacA, false), 1);
  EXPECT_EQ(released[0], held);
  free_released();

  // Known and reachable: create=false updates the address.
  EXPECT_EQ(learn(*t, kA, kMacA2, false), 0);
  rte_mbuf* m = pkt();
  ASSERT_EQ(resolve(*t, kA, m), NeighResult::kReady);
  EXPECT_EQ(mac_of(resolved_mac), kMacA2);
  rte_pktmbuf_free(m);
  EXPECT_EQ(t->size(), 1u);
}

TEST_F(NeighTest, SameAddressOnAnotherPortIsAnotherNeighbour) {
  auto t = make();
  learn(*t, kA, kMacA, true, kT0, /*port=*/0);
  rte_mbuf* m = pkt();
  EXPECT_EQ(resolve(*t, kA, m, kT0, /*port=*/1), NeighResult::kHeld);
  EXPECT_TRUE(ask);
  EXPECT_EQ(t->size(), 2u);
}

// With retries = 3: the caller sends the first request, tick() the other
// two, one per retry interval, and the next deadline gives up.
TEST_F(NeighTest, TickRetriesThenGivesUpEveryHeldPacket) {
  auto t = make(16, 4, 3);
  std::vector<rte_mbuf*> sent = {pkt(), pkt()};
  for (rte_mbuf* m : sent) ASSERT_EQ(resolve(*t, kA, m), NeighResult::kHeld);
  Recorder r;
  t->tick(kT0 + kRetry - 1, r);
  EXPECT_TRUE(r.asks.empty()) << "retry interval not elapsed";
  t->tick(kT0 + kRetry, r);
  ASSERT_EQ(r.asks.size(), 1u);
  EXPECT_EQ(r.asks[0], std::make_pair(uint16_t(0), kA));
  t->tick(kT0 + kRetry + kRetry / 2, r);
  EXPECT_EQ(r.asks.size(), 1u);
  t->tick(kT0 + 2 * kRetry, r);
  EXPECT_EQ(r.asks.size(), 2u);
  EXPECT_TRUE(r.given_up.empty());
  EXPECT_EQ(t->size(), 1u);

  t->tick(kT0 + 3 * kRetry, r);
  EXPECT_EQ(r.asks.size(), 2u) << "retries - 1 further requests, no more";
  EXPECT_EQ(r.given_up, sent);
  EXPECT_EQ(r.given_up_ips, std::vector<uint32_t>(2, kA));
  EXPECT_EQ(t->size(), 0u);
  EXPECT_TRUE(t->dump().empty());

  // The entry is gone: the next packet starts over with a fresh request.
  rte_mbuf* m = pkt();
  EXPECT_EQ(resolve(*t, kA, m, kT0 + 4 * kRetry), NeighResult::kHeld);
  EXPECT_TRUE(ask);
}

TEST_F(NeighTest, ReachableEntryExpires) {
  auto t = make();
  learn(*t, kA, kMacA, true, kT0);
  Recorder r;
  t->tick(kT0 + kReachable - 1, r);
  rte_mbuf* m = pkt();
  EXPECT_EQ(resolve(*t, kA, m, kT0 + kReachable - 1), NeighResult::kReady);
  t->tick(kT0 + kReachable, r);
  EXPECT_EQ(t->size(), 0u);
  EXPECT_TRUE(r.asks.empty()) << "expiry is silent; the next use resolves again";
  EXPECT_EQ(resolve(*t, kA, m, kT0 + kReachable), NeighResult::kHeld);
  EXPECT_TRUE(ask);
}

TEST_F(NeighTest, FullTableRefusesNewNeighboursButServesKnownOnes) {
  auto t = make(/*max=*/8);
  for (uint32_t i = 0; i < 8; i++) {
    uint32_t addr = htonl(ntohl(kA) + i);
    ASSERT_EQ(resolve(*t, addr, pkt()), NeighResult::kHeld) << i;
  }
  rte_mbuf* m = pkt();
  EXPECT_EQ(resolve(*t, ip("10.0.9.9"), m), NeighResult::kTableFull);
  EXPECT_FALSE(ask);
  EXPECT_EQ(learn(*t, ip("10.0.9.9"), kMacA, true), 0);
  EXPECT_EQ(t->size(), 8u);
  EXPECT_EQ(resolve(*t, kA, m), NeighResult::kHeld) << "existing entries still work";
}

TEST_F(NeighTest, DumpDescribesEveryEntry) {
  auto t = make();
  learn(*t, kA, kMacA, true, kT0, /*port=*/1);
  ASSERT_EQ(resolve(*t, kB, pkt()), NeighResult::kHeld);
  auto rows = t->dump();
  ASSERT_EQ(rows.size(), 2u);
  std::sort(rows.begin(), rows.end(),
            [](const NeighInfo& x, const NeighInfo& y) { return ntohl(x.ip) < ntohl(y.ip); });
  EXPECT_EQ(rows[0].port, 1);
  EXPECT_EQ(rows[0].ip, kA);
  EXPECT_EQ(mac_of(rows[0].mac), kMacA);
  EXPECT_EQ(rows[0].state, NeighState::kReachable);
  EXPECT_EQ(rows[0].held, 0);
  EXPECT_EQ(rows[1].port, 0);
  EXPECT_EQ(rows[1].ip, kB);
  EXPECT_EQ(rows[1].state, NeighState::kIncomplete);
  EXPECT_EQ(rows[1].held, 1);
}

TEST_F(NeighTest, DestructorFreesHeldPackets) {
  unsigned before = rte_mempool_avail_count(test_pool());
  auto t = make();
  for (int i = 0; i < 3; i++) resolve(*t, kA, pkt());
  resolve(*t, kB, pkt());
  EXPECT_EQ(rte_mempool_avail_count(test_pool()), before - 4);
  t.reset();
  EXPECT_EQ(rte_mempool_avail_count(test_pool()), before);
}

}  // namespace
}  // namespace fulcrum::test
