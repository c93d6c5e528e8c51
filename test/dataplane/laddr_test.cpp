// SPDX-License-Identifier: Apache-2.0
//
// Local-address pools: which ports a worker owns, FIFO reuse, exhaustion
// and the move to the next address of a pool.
#include <rte_byteorder.h>

#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "ipvs/laddr.hpp"

namespace fulcrum::test {
namespace {

uint16_t host(uint16_t be) { return rte_be_to_cpu_16(be); }

TEST(PortPool, AWorkerOwnsExactlyThePortsThatMapToIt) {
  for (uint32_t workers : {1u, 2u, 3u, 4u}) {
    std::set<uint16_t> all;
    for (uint32_t w = 0; w < workers; w++) {
      PortPool p;
      p.init(w, workers);
      for (uint32_t i = 0; i < p.capacity(); i++) {
        uint16_t port = host(p.fetch());
        EXPECT_EQ(laddr_owner(port, workers), w);
        EXPECT_GE(port, kLportFirst);
        EXPECT_TRUE(all.insert(port).second) << "port " << port << " owned twice";
      }
      EXPECT_EQ(p.fetch(), 0) << "exhausted";
    }
    EXPECT_EQ(all.size(), size_t(kLportLast - kLportFirst + 1)) << workers << " workers";
  }
}

TEST(PortPool, ReleasedPortsComeBackInReleaseOrderAfterTheFreshOnes) {
  PortPool p;
  p.init(0, 16000);  // owns 16000, 32000, 48000, 64000: four ports
  ASSERT_EQ(p.capacity(), 4u);
  std::vector<uint16_t> got;
  for (int i = 0; i < 4; i++) got.push_back(host(p.fetch()));
  EXPECT_EQ(got, (std::vector<uint16_t>{16000, 32000, 48000, 64000}));
  EXPECT_EQ(p.fetch(), 0);
  p.release(rte_cpu_to_be_16(48000));
  p.release(rte_cpu_to_be_16(16000));
  EXPECT_EQ(p.used(), 2u);
  EXPECT_EQ(host(p.fetch()), 48000);
  p.release(rte_cpu_to_be_16(32000));
  EXPECT_EQ(host(p.fetch()), 16000);
  EXPECT_EQ(host(p.fetch()), 32000);
  EXPECT_EQ(p.fetch(), 0);
}

TEST(LaddrPools, AnExhaustedAddressIsCountedAndTheNextOneServes) {
  std::vector<LaddrStats> rows(4);
  LaddrPools pools(0, 16000, 4, rows.data());  // four ports per address
  std::vector<Laddr> pool = {{1, 0x0a000001}, {3, 0x0a000003}};
  Laddr a;
  uint16_t port;
  int from1 = 0, from3 = 0;
  for (int i = 0; i < 8; i++) {
    ASSERT_TRUE(pools.fetch(pool, a, port)) << i;
    (a.id == 1 ? from1 : from3)++;
  }
  EXPECT_EQ(from1, 4);
  EXPECT_EQ(from3, 4);
  EXPECT_FALSE(pools.fetch(pool, a, port));
  EXPECT_EQ(rows[1].get(LaddrStat::exhausted), 1u);
  EXPECT_EQ(rows[3].get(LaddrStat::exhausted), 1u);
  EXPECT_EQ(rows[1].get(LaddrStat::used), 4u);
  EXPECT_EQ(rows[1].get(LaddrStat::capacity), 4u);
  pools.release(3, rte_cpu_to_be_16(32000));
  EXPECT_EQ(rows[3].get(LaddrStat::used), 3u);
  ASSERT_TRUE(pools.fetch(pool, a, port));
  EXPECT_EQ(a.id, 3u);
  EXPECT_EQ(host(port), 32000);
}

}  // namespace
}  // namespace fulcrum::test
