// SPDX-License-Identifier: Apache-2.0
//
// build_snapshot turns the control plane's description into what workers
// read: the owned addresses (sorted, and indexed for lookups), the routes (connected ones derived from the addresses) and the
// generation each address appeared in (which decides gratuitous ARP).
#include <netinet/in.h>

#include <algorithm>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "ctrl/snapshot.hpp"
#include "ctrl/snapshot_build.hpp"
#include "packet_builder.hpp"

namespace fulcrum::test {
namespace {

constexpr uint16_t kPortCount = 2;
constexpr SnapshotLimits kPorts{kPortCount, 64, 256};

std::unique_ptr<Snapshot> build(const SnapshotSpec& spec, uint64_t gen = 1,
                                const Snapshot* prev = nullptr) {
  std::string err;
  auto s = build_snapshot(spec, prev, gen, kPorts, err);
  EXPECT_NE(s, nullptr) << err;
  return s;
}

std::string build_error(const SnapshotSpec& spec) {
  std::string err;
  EXPECT_EQ(build_snapshot(spec, nullptr, 1, kPorts, err), nullptr);
  return err;
}

SnapshotSpec two_ports() {
  SnapshotSpec spec;
  spec.addresses = {{ip("10.0.1.2"), 24, 1}, {ip("192.168.7.1"), 24, 0}, {ip("10.0.0.2"), 24, 0}};
  return spec;
}

TEST(BuildSnapshot, AddressesAreSortedAndFindable) {
  auto s = build(two_ports(), 5);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->generation, 5u);
  ASSERT_EQ(s->addresses.size(), 3u);
  EXPECT_TRUE(std::is_sorted(s->addresses.begin(), s->addresses.end(),
                             [](const OwnedAddress& a, const OwnedAddress& b) { return a.ip < b.ip; }));
  for (const char* a : {"10.0.1.2", "192.168.7.1", "10.0.0.2"}) {
    const OwnedAddress* own = s->find_owned(ip(a));
    ASSERT_NE(own, nullptr) << a;
    EXPECT_EQ(own->ip, ip(a));
  }
  EXPECT_EQ(s->find_owned(ip("10.0.1.2"))->port, 1);
  EXPECT_EQ(s->find_owned(ip("10.0.0.2"))->prefix, 24);
  for (const char* a : {"10.0.0.1", "10.0.0.3", "0.0.0.0", "255.255.255.255", "192.168.7.2"})
    EXPECT_EQ(s->find_owned(ip(a)), nullptr) << a;
}

// An rte_lpm costs 64 MiB: a snapshot whose routes did not change shares
// its predecessor's table instead of building another.
TEST(BuildSnapshot, UnchangedRoutesShareThePreviousTable) {
  SnapshotSpec spec = two_ports();
  spec.routes = {{ip("0.0.0.0"), 0, 0, ip("10.0.0.1")}};
  auto first = build(spec, 1);
  auto same = build(spec, 2, first.get());
  ASSERT_NE(first, nullptr);
  ASSERT_NE(same, nullptr);
  EXPECT_EQ(same->routes.get(), first->routes.get());
  spec.routes.push_back({ip("172.16.0.0"), 12, 1, ip("10.0.1.1")});
  auto changed = build(spec, 3, same.get());
  ASSERT_NE(changed, nullptr);
  EXPECT_NE(changed->routes.get(), same->routes.get());
  ASSERT_NE(changed->routes->lookup(ip("172.16.9.9")), nullptr);
  EXPECT_EQ(changed->routes->lookup(ip("172.16.9.9"))->port, 1);
  // The shared table outlives the snapshot that built it.
  first.reset();
  ASSERT_NE(same->routes->lookup(ip("8.8.8.8")), nullptr);
  EXPECT_EQ(same->routes->lookup(ip("8.8.8.8"))->gateway, ip("10.0.0.1"));
}

TEST(BuildSnapshot, EmptySpecFindsNothing) {
  auto s = build(SnapshotSpec{});
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->find_owned(ip("10.0.0.2")), nullptr);
  EXPECT_EQ(s->source_for(0, ip("10.0.0.9")), 0u);
  EXPECT_EQ(s->routes->lookup(ip("10.0.0.9")), nullptr);
}

TEST(BuildSnapshot, SourceForPrefersAnAddressOnTheTargetsSubnet) {
  auto s = build(two_ports());
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->source_for(0, ip("192.168.7.200")), ip("192.168.7.1"));
  EXPECT_EQ(s->source_for(0, ip("10.0.0.77")), ip("10.0.0.2"));
  EXPECT_EQ(s->source_for(1, ip("10.0.1.77")), ip("10.0.1.2"));
  // Off every subnet: the port's first address, never another port's.
  uint32_t first0 = 0;
  for (const OwnedAddress& a : s->addresses)
    if (a.port == 0 && first0 == 0) first0 = a.ip;
  EXPECT_EQ(s->source_for(0, ip("172.16.0.1")), first0);
  EXPECT_EQ(s->source_for(1, ip("172.16.0.1")), ip("10.0.1.2"));
}

// VIPs and local addresses are owned addresses too, but never a source:
// services add thousands of them, and source_for (every TUN packet, every
// ARP request) scans only the ports' own addresses.
TEST(BuildSnapshot, SourceForSkipsVipsAndLocalAddresses) {
  SnapshotSpec spec;
  spec.addresses = {{ip("10.0.0.200"), 24, 0}};
  ServiceSpec svc{};
  svc.proto = IPPROTO_TCP;
  svc.vip = ip("10.0.0.1");  // on the port's subnet, sorted before its address
  svc.vport = htons(80);
  svc.scheduler = "rr";
  svc.laddrs = {Laddr{0, ip("10.0.0.3")}};
  spec.services.push_back(svc);
  auto s = build(spec);
  ASSERT_NE(s, nullptr);
  ASSERT_NE(s->find_owned(ip("10.0.0.1")), nullptr);
  ASSERT_NE(s->find_owned(ip("10.0.0.3")), nullptr);
  ASSERT_EQ(s->port_addresses.size(), 1u);
  EXPECT_EQ(s->source_for(0, ip("10.0.0.77")), ip("10.0.0.200"));
  EXPECT_EQ(s->source_for(0, ip("172.16.0.1")), ip("10.0.0.200"));
  // The VIP still answers ARP on the port whose subnet holds it.
  EXPECT_EQ(s->find_owned(ip("10.0.0.1"))->port, 0);
}

TEST(BuildSnapshot, SourceForIsZeroForAPortWithoutAddresses) {
  SnapshotSpec spec;
  spec.addresses = {{ip("10.0.0.2"), 24, 0}};
  auto s = build(spec);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->source_for(1, ip("10.0.0.9")), 0u);
}

TEST(BuildSnapshot, ConnectedRoutesComeFromTheAddresses) {
  auto s = build(two_ports());
  ASSERT_NE(s, nullptr);
  ASSERT_NE(s->routes, nullptr);
  const Nexthop* nh = s->routes->lookup(ip("10.0.1.200"));
  ASSERT_NE(nh, nullptr);
  EXPECT_EQ(nh->port, 1);
  EXPECT_EQ(nh->gateway, 0u) << "connected: ARP the destination itself";
  nh = s->routes->lookup(ip("10.0.0.200"));
  ASSERT_NE(nh, nullptr);
  EXPECT_EQ(nh->port, 0);
  EXPECT_EQ(s->routes->lookup(ip("10.0.2.1")), nullptr) << "no default route configured";
}

TEST(BuildSnapshot, StaticRoutesAddToAndOverrideConnectedOnes) {
  SnapshotSpec spec = two_ports();
  spec.routes = {{ip("10.0.1.0"), 24, 0, ip("10.0.0.1")},  // same prefix as port 1's subnet
                 {ip("0.0.0.0"), 0, 1, ip("10.0.1.1")}};
  auto s = build(spec);
  ASSERT_NE(s, nullptr);
  const Nexthop* nh = s->routes->lookup(ip("10.0.1.9"));
  ASSERT_NE(nh, nullptr);
  EXPECT_EQ(nh->port, 0);
  EXPECT_EQ(nh->gateway, ip("10.0.0.1"));
  nh = s->routes->lookup(ip("8.8.8.8"));
  ASSERT_NE(nh, nullptr);
  EXPECT_EQ(nh->port, 1);
  EXPECT_EQ(nh->gateway, ip("10.0.1.1"));
  nh = s->routes->lookup(ip("10.0.0.9"));
  ASSERT_NE(nh, nullptr);
  EXPECT_EQ(nh->gateway, 0u) << "connected route untouched by the default";
}

TEST(BuildSnapshot, DuplicateAddressIsRefusedNamingIt) {
  SnapshotSpec spec = two_ports();
  spec.addresses.push_back({ip("10.0.0.2"), 16, 1});
  std::string err = build_error(spec);
  EXPECT_NE(err.find("10.0.0.2"), std::string::npos) << err;
}

TEST(BuildSnapshot, BadPortIsRefusedNamingTheAddress) {
  SnapshotSpec spec = two_ports();
  spec.addresses.push_back({ip("10.9.9.9"), 24, kPortCount});
  std::string err = build_error(spec);
  EXPECT_NE(err.find("10.9.9.9"), std::string::npos) << err;
  EXPECT_NE(err.find("port"), std::string::npos) << err;
}

TEST(BuildSnapshot, BadRoutePortIsRefusedNamingTheRoute) {
  SnapshotSpec spec = two_ports();
  spec.routes = {{ip("172.16.0.0"), 12, kPortCount, ip("10.0.0.1")}};
  std::string err = build_error(spec);
  EXPECT_NE(err.find("172.16.0.0"), std::string::npos) << err;
}

// Route tables are named after the generation; a failed build must free
// its table, or retrying the same generation would collide on the name.
TEST(BuildSnapshot, FailedBuildCanBeRetriedWithTheSameGeneration) {
  SnapshotSpec bad = two_ports();
  bad.routes = {{ip("172.16.0.0"), 12, kPortCount, 0}};
  std::string err;
  ASSERT_EQ(build_snapshot(bad, nullptr, 42, kPorts, err), nullptr);
  EXPECT_NE(build(two_ports(), 42), nullptr);
}

TEST(BuildSnapshot, AddedGenerationIsKeptForOldAddressesOnly) {
  SnapshotSpec first;
  first.addresses = {{ip("10.0.0.2"), 24, 0}, {ip("10.0.0.3"), 24, 0}, {ip("10.0.1.2"), 24, 1}};
  auto s1 = build(first, 1);
  ASSERT_NE(s1, nullptr);
  for (const OwnedAddress& a : s1->addresses) EXPECT_EQ(a.added_gen, 1u);

  SnapshotSpec second;
  second.addresses = {{ip("10.0.0.2"), 24, 0},   // unchanged
                      {ip("10.0.0.4"), 24, 0},   // new
                      {ip("10.0.0.3"), 24, 1}};  // moved to the other port: announce again
  auto s2 = build(second, 2, s1.get());
  ASSERT_NE(s2, nullptr);
  EXPECT_EQ(s2->find_owned(ip("10.0.0.2"))->added_gen, 1u);
  EXPECT_EQ(s2->find_owned(ip("10.0.0.4"))->added_gen, 2u);
  EXPECT_EQ(s2->find_owned(ip("10.0.0.3"))->added_gen, 2u);

  // Without prev everything counts as new.
  s1.reset();
  auto s3 = build(second, 3);
  ASSERT_NE(s3, nullptr);
  for (const OwnedAddress& a : s3->addresses) EXPECT_EQ(a.added_gen, 3u);
}

}  // namespace
}  // namespace fulcrum::test
