// SPDX-License-Identifier: Apache-2.0
//
// ServiceTable, the <proto, vip, vport> -> service lookup every new flow
// makes: at 10k services with group endpoints every endpoint is found,
// nothing else is, a vip's port-zero service catches its other ports, and
// a second service on one endpoint, or with one id, is refused by id; and
// a worker's one-entry memo of it never answers from an older table.
#include <netinet/in.h>

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rte_byteorder.h>

#include "ipvs/service.hpp"

namespace fulcrum {
namespace {

Service service(uint32_t id, uint8_t proto, uint32_t vip, uint16_t vport) {
  Service s{};
  s.id = id;
  s.proto = proto;
  s.vip = vip;
  s.vport = rte_cpu_to_be_16(vport);
  return s;
}

std::vector<ServiceTable::Shared> shared(const std::vector<Service>& services) {
  std::vector<ServiceTable::Shared> out;
  for (const Service& s : services) out.push_back(std::make_shared<const Service>(s));
  return out;
}

uint32_t vip_of(uint32_t i) { return rte_cpu_to_be_32(0x0a000000u + i / 4); }  // 4 services a VIP

TEST(ServiceTable, TenThousandServicesAreEachFoundAndNothingElseIs) {
  constexpr uint32_t kN = 10000;
  std::vector<Service> services;
  for (uint32_t i = 0; i < kN; i++) {
    Service s = service(i, i % 2 ? IPPROTO_UDP : IPPROTO_TCP, vip_of(i), uint16_t(80 + i % 4));
    if (i % 10 == 0) s.extra.push_back(Endpoint{IPPROTO_TCP, vip_of(i), rte_cpu_to_be_16(443)});
    services.push_back(s);
  }
  std::string err;
  auto t = ServiceTable::create(shared(services), err);
  ASSERT_NE(t, nullptr) << err;
  for (uint32_t i = 0; i < kN; i++) {
    const Service* s = t->find(i % 2 ? IPPROTO_UDP : IPPROTO_TCP, vip_of(i), rte_cpu_to_be_16(uint16_t(80 + i % 4)));
    ASSERT_NE(s, nullptr) << "service " << i;
    EXPECT_EQ(s->id, i);
    EXPECT_EQ(t->by_id(i), s);
    const Service* other_proto = t->find(i % 2 ? IPPROTO_TCP : IPPROTO_UDP, vip_of(i),
                                         rte_cpu_to_be_16(uint16_t(80 + i % 4)));
    EXPECT_EQ(other_proto, nullptr) << "service " << i;
    if (i % 10 == 0) {
      const Service* group = t->find(IPPROTO_TCP, vip_of(i), rte_cpu_to_be_16(443));
      ASSERT_NE(group, nullptr) << "service " << i;
      EXPECT_EQ(group->id, i);
    }
  }
  EXPECT_EQ(t->find(IPPROTO_TCP, vip_of(0), rte_cpu_to_be_16(8080)), nullptr);
  EXPECT_EQ(t->find(IPPROTO_TCP, vip_of(kN + 4), rte_cpu_to_be_16(80)), nullptr);
  EXPECT_EQ(t->by_id(kN), nullptr);
}

TEST(ServiceTable, APortZeroServiceTakesTheVipsOtherPorts) {
  const uint32_t vip = rte_cpu_to_be_32(0x0a000001);
  std::string err;
  auto t = ServiceTable::create(shared({service(1, IPPROTO_TCP, vip, 80), service(2, IPPROTO_TCP, vip, 0)}), err);
  ASSERT_NE(t, nullptr) << err;
  EXPECT_EQ(t->find(IPPROTO_TCP, vip, rte_cpu_to_be_16(80))->id, 1u);   // the exact port first
  EXPECT_EQ(t->find(IPPROTO_TCP, vip, rte_cpu_to_be_16(443))->id, 2u);
  EXPECT_EQ(t->find(IPPROTO_TCP, vip, 0)->id, 2u);
  EXPECT_EQ(t->find(IPPROTO_UDP, vip, rte_cpu_to_be_16(443)), nullptr);
}

TEST(ServiceTable, TwoServicesOnOneEndpointAreRefusedByName) {
  const uint32_t vip = rte_cpu_to_be_32(0x0a000001);
  Service grouped = service(8, IPPROTO_TCP, vip, 443);
  grouped.extra.push_back(Endpoint{IPPROTO_TCP, vip, rte_cpu_to_be_16(80)});
  std::string err;
  EXPECT_EQ(ServiceTable::create(shared({service(7, IPPROTO_TCP, vip, 80), grouped}), err), nullptr);
  EXPECT_EQ(err, "service 8 has the same protocol, address and port as another");
}

TEST(ServiceTable, TwoServicesWithOneIdAreRefused) {
  const uint32_t vip = rte_cpu_to_be_32(0x0a000001);
  std::string err;
  EXPECT_EQ(ServiceTable::create(shared({service(7, IPPROTO_TCP, vip, 80), service(7, IPPROTO_TCP, vip, 81)}), err), nullptr);
  EXPECT_EQ(err, "service id 7 is used twice");
}

// expire_nodest asks, for every packet, whether the connection's service
// still has its dest, by dest id alone: an id two such services claim is
// refused rather than given to one of them.
TEST(ServiceTable, ExpireNodestServicesFindTheirDestsByIdAndShareNone) {
  const uint32_t vip = rte_cpu_to_be_32(0x0a000001);
  Service a = service(1, IPPROTO_TCP, vip, 80), b = service(2, IPPROTO_TCP, vip, 81);
  a.expire_nodest = b.expire_nodest = true;
  a.dests = {Dest{10, vip, 0, FwdMode::kNat, 1, 0, 0, true}, Dest{11, vip, 0, FwdMode::kNat, 1, 0, 0, true}};
  b.dests = {Dest{12, vip, 0, FwdMode::kNat, 1, 0, 0, true}};
  std::string err;
  auto t = ServiceTable::create(shared({a, b}), err);
  ASSERT_NE(t, nullptr) << err;
  EXPECT_TRUE(t->nodest_has(1, 10) && t->nodest_has(1, 11) && t->nodest_has(2, 12));
  EXPECT_FALSE(t->nodest_has(2, 10));  // another service's dest
  EXPECT_FALSE(t->nodest_has(1, 12));
  EXPECT_FALSE(t->nodest_has(1, 99));  // no such dest
  b.dests.push_back(a.dests[1]);
  EXPECT_EQ(ServiceTable::create(shared({a, b}), err), nullptr);
  EXPECT_EQ(err, "dest id 11 is used twice");
}

// A worker's memo answers for the table it is handed: a new table (a new
// snapshot), while the old one lives on or after it was freed, is looked
// up again.
TEST(ServiceMemo, AnswersFromTheTableItIsGivenNotTheOneBefore) {
  const uint32_t vip = rte_cpu_to_be_32(0x0a000001);
  const uint16_t p80 = rte_cpu_to_be_16(80), p81 = rte_cpu_to_be_16(81);
  std::string err;
  auto table = [&](uint32_t id) {
    auto t = ServiceTable::create(shared({service(id, IPPROTO_TCP, vip, 80)}), err);
    EXPECT_NE(t, nullptr) << err;
    return t;
  };
  ServiceMemo memo;
  auto t1 = table(1);
  EXPECT_EQ(memo.find(*t1, IPPROTO_TCP, vip, p80)->id, 1u);
  EXPECT_EQ(memo.find(*t1, IPPROTO_TCP, vip, p81), nullptr);
  EXPECT_EQ(memo.find(*t1, IPPROTO_UDP, vip, p80), nullptr);
  EXPECT_EQ(memo.find(*t1, IPPROTO_TCP, vip, p80)->id, 1u);
  auto t2 = table(2);
  EXPECT_EQ(memo.find(*t2, IPPROTO_TCP, vip, p80)->id, 2u);
  EXPECT_EQ(memo.find(*t1, IPPROTO_TCP, vip, p80)->id, 1u);
  EXPECT_EQ(memo.find(*t2, IPPROTO_TCP, vip, p80)->id, 2u);
  t1.reset();  // the allocator may well put the next table where this one was
  auto t3 = table(3);
  EXPECT_EQ(memo.find(*t3, IPPROTO_TCP, vip, p80)->id, 3u);
}

}  // namespace
}  // namespace fulcrum
