// SPDX-License-Identifier: Apache-2.0
//
// AddressIndex (ctrl/address_index.hpp): every indexed address is found at
// its position, and nothing else is found, whatever the addresses (one
// subnet's neighbours that hash near each other, 0.0.0.0 and
// 255.255.255.255, random ones), and an index before build() finds nothing.
#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include <arpa/inet.h>

#include <gtest/gtest.h>

#include "ctrl/address_index.hpp"

namespace fulcrum::test {
namespace {

AddressIndex index_of(const std::vector<uint32_t>& ips) {
  AddressIndex x;
  x.build(ips.size(), [&](size_t i) { return ips[i]; });
  return x;
}

TEST(AddressIndex, FindsEveryAddressAtItsPositionAndNothingElse) {
  std::mt19937 rng(7);
  std::set<uint32_t> taken;
  std::vector<uint32_t> ips = {0, UINT32_MAX};
  for (uint32_t i = 0; i < 4096; i++) ips.push_back(htonl(0x0a400000u + i));  // one subnet, in order
  while (ips.size() < 20000) ips.push_back(rng());
  std::sort(ips.begin(), ips.end());
  ips.erase(std::unique(ips.begin(), ips.end()), ips.end());
  taken.insert(ips.begin(), ips.end());
  AddressIndex x = index_of(ips);
  for (size_t i = 0; i < ips.size(); i++) ASSERT_EQ(x.find(ips[i]), int32_t(i)) << i;
  for (int k = 0; k < 100000; k++) {
    uint32_t ip = rng();
    if (taken.count(ip) == 0) {
      ASSERT_EQ(x.find(ip), -1) << ip;
    }
  }
  EXPECT_EQ(x.find(htonl(0x0a400000u + 4096)), -1);  // the subnet's next address
}

TEST(AddressIndex, EmptyAndSmallIndexes) {
  AddressIndex none;
  EXPECT_EQ(none.find(0), -1);
  EXPECT_EQ(index_of({}).find(0), -1);
  AddressIndex one = index_of({htonl(0x0a000002u)});
  EXPECT_EQ(one.find(htonl(0x0a000002u)), 0);
  EXPECT_EQ(one.find(0), -1);  // a free slot's zeroes are not the address 0.0.0.0
}

TEST(AddressIndex, ABuildReplacesThePreviousOne) {
  AddressIndex x = index_of({1, 2, 3});
  std::vector<uint32_t> next = {3, 4};
  x.build(next.size(), [&](size_t i) { return next[i]; });
  EXPECT_EQ(x.find(1), -1);
  EXPECT_EQ(x.find(3), 0);
  EXPECT_EQ(x.find(4), 1);
}

}  // namespace
}  // namespace fulcrum::test
