// SPDX-License-Identifier: Apache-2.0
//
// NexthopCache on its own: what it answers, and when it stops answering.
// (Through the packet path: the CachedNextHop* cases of golden_test.cpp.)
#include <gtest/gtest.h>

#include "net/nexthop_cache.hpp"

namespace fulcrum {
namespace {

constexpr rte_ether_addr kMacA{{0x02, 0, 0, 0, 0, 0x0a}};
constexpr rte_ether_addr kMacB{{0x02, 0, 0, 0, 0, 0x0b}};

// A second target that lands in target's slot: found by trying, so the
// test does not restate the cache's hash.
uint32_t colliding(NexthopCache& cache, uint32_t target) {
  cache.fill(target, 0, kMacA);
  for (uint32_t t = target + 1;; t++) {
    cache.fill(t, 1, kMacB);
    if (cache.find(target, 1, 0) == nullptr) return t;
    cache.fill(target, 0, kMacA);
  }
}

TEST(NexthopCache, AnswersWhatWasFilledUnderTheSameGenerationAndVersion) {
  NexthopCache cache;
  EXPECT_EQ(cache.find(0x0a000005, 1, 0), nullptr);
  cache.fill(0x0a000005, 1, kMacA);
  const NexthopCache::Hop* hop = cache.find(0x0a000005, 1, 0);
  ASSERT_NE(hop, nullptr);
  EXPECT_EQ(hop->port, 1);
  EXPECT_TRUE(rte_is_same_ether_addr(&hop->mac, &kMacA));
  EXPECT_EQ(cache.find(0x0a000006, 1, 0), nullptr);
}

TEST(NexthopCache, ANewGenerationOrNeighbourVersionForgetsEveryEntry) {
  NexthopCache cache;
  for (uint64_t gen : {1, 2}) {
    for (uint64_t ver : {0, 1}) {
      ASSERT_EQ(cache.find(0x0a000005, gen, ver), nullptr) << gen << "/" << ver;
      cache.fill(0x0a000005, 0, kMacA);
      ASSERT_NE(cache.find(0x0a000005, gen, ver), nullptr);
    }
  }
  // Going back to an earlier pair is a change too.
  EXPECT_EQ(cache.find(0x0a000005, 1, 0), nullptr);
}

TEST(NexthopCache, ACollidingTargetReplacesTheEntryAndIsNeverMistakenForIt) {
  NexthopCache cache;
  cache.find(0x0a000005, 1, 0);
  uint32_t other = colliding(cache, 0x0a000005);
  const NexthopCache::Hop* hop = cache.find(other, 1, 0);
  ASSERT_NE(hop, nullptr);
  EXPECT_EQ(hop->target, other);
  EXPECT_TRUE(rte_is_same_ether_addr(&hop->mac, &kMacB));
  EXPECT_EQ(cache.find(0x0a000005, 1, 0), nullptr);
}

}  // namespace
}  // namespace fulcrum
