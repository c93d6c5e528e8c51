// SPDX-License-Identifier: Apache-2.0
//
// RouteTable wraps rte_lpm and adds what rte_lpm lacks: a depth-0 default
// route and nexthops with a gateway. Prefixes are network order on our
// side and host order in rte_lpm, so a byte-order slip shows up here as
// the wrong route winning.
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <rte_lpm.h>

#include "net/route.hpp"
#include "packet_builder.hpp"

namespace fulcrum::test {
namespace {

std::unique_ptr<RouteTable> make_table() {
  std::string err;
  auto t = RouteTable::create(unique_name("route_t").c_str(), 64, SOCKET_ID_ANY, err);
  EXPECT_NE(t, nullptr) << err;
  return t;
}

void add(RouteTable& t, const char* prefix, uint8_t depth, uint16_t port, uint32_t gw = 0) {
  std::string err;
  ASSERT_TRUE(t.add(ip(prefix), depth, Nexthop{port, gw}, err)) << prefix << "/" << int(depth)
                                                                << ": " << err;
}

// The port the route for dst leaves by, or -1 for no route.
int port_for(const RouteTable& t, const char* dst) {
  const Nexthop* nh = t.lookup(ip(dst));
  return nh ? nh->port : -1;
}

TEST(RouteTable, LongestPrefixWins) {
  auto t = make_table();
  add(*t, "10.0.0.0", 8, 1);
  add(*t, "10.1.0.0", 16, 2);
  add(*t, "10.1.2.0", 24, 3);
  add(*t, "10.1.2.16", 28, 4);  // deeper than 24: lives in an rte_lpm tbl8
  add(*t, "10.1.2.20", 32, 5);
  EXPECT_EQ(port_for(*t, "10.200.0.1"), 1);
  EXPECT_EQ(port_for(*t, "10.1.200.1"), 2);
  EXPECT_EQ(port_for(*t, "10.1.2.1"), 3);
  EXPECT_EQ(port_for(*t, "10.1.2.17"), 4);
  EXPECT_EQ(port_for(*t, "10.1.2.20"), 5);
  EXPECT_EQ(port_for(*t, "10.1.2.32"), 3);
}

TEST(RouteTable, NoRouteIsNull) {
  auto t = make_table();
  EXPECT_EQ(t->lookup(ip("10.0.0.1")), nullptr) << "empty table";
  add(*t, "10.0.0.0", 8, 1);
  EXPECT_EQ(t->lookup(ip("11.0.0.1")), nullptr);
  EXPECT_EQ(t->lookup(ip("9.255.255.255")), nullptr);
}

TEST(RouteTable, DefaultRouteOnlyWhenNothingElseMatches) {
  auto t = make_table();
  add(*t, "0.0.0.0", 0, 7, ip("10.0.0.1"));
  add(*t, "10.0.0.0", 24, 1);
  const Nexthop* nh = t->lookup(ip("192.0.2.1"));
  ASSERT_NE(nh, nullptr);
  EXPECT_EQ(nh->port, 7);
  EXPECT_EQ(nh->gateway, ip("10.0.0.1"));
  nh = t->lookup(ip("10.0.0.9"));
  ASSERT_NE(nh, nullptr);
  EXPECT_EQ(nh->port, 1);
  EXPECT_EQ(nh->gateway, 0u);
}

TEST(RouteTable, LaterAddOfTheSamePrefixReplacesTheNexthop) {
  auto t = make_table();
  add(*t, "10.1.0.0", 16, 1);
  add(*t, "10.1.0.0", 16, 2, ip("10.0.0.254"));
  const Nexthop* nh = t->lookup(ip("10.1.3.4"));
  ASSERT_NE(nh, nullptr);
  EXPECT_EQ(nh->port, 2);
  EXPECT_EQ(nh->gateway, ip("10.0.0.254"));

  add(*t, "0.0.0.0", 0, 3);
  add(*t, "0.0.0.0", 0, 4);
  EXPECT_EQ(port_for(*t, "8.8.8.8"), 4);
}

TEST(RouteTable, BadDepthIsRefusedWithAMessage) {
  auto t = make_table();
  std::string err;
  EXPECT_FALSE(t->add(ip("10.0.0.0"), 33, Nexthop{1, 0}, err));
  EXPECT_FALSE(err.empty());
  EXPECT_EQ(t->lookup(ip("10.0.0.1")), nullptr);
}

TEST(RouteTable, DuplicateNameIsRefusedAndDestructionFreesTheName) {
  std::string name = unique_name("route_dup");
  std::string err;
  auto a = RouteTable::create(name.c_str(), 8, SOCKET_ID_ANY, err);
  ASSERT_NE(a, nullptr) << err;
  EXPECT_EQ(RouteTable::create(name.c_str(), 8, SOCKET_ID_ANY, err), nullptr);
  EXPECT_NE(err.find(name), std::string::npos) << err;
  a.reset();
  EXPECT_EQ(rte_lpm_find_existing(name.c_str()), nullptr);
  EXPECT_NE(RouteTable::create(name.c_str(), 8, SOCKET_ID_ANY, err), nullptr) << err;
}

}  // namespace
}  // namespace fulcrum::test
