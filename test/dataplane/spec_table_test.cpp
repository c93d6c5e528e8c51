// SPDX-License-Identifier: Apache-2.0
//
// read_service_spec: a service packed as the control plane packs it
// (control/src/dataplane/spec-table.ts) comes out field for field, in
// network order where the engine wants it; an array the control plane
// could not have written is refused, naming the word, without reading
// past its end.
#include <netinet/in.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ctrl/spec_table.hpp"
#include "packet_builder.hpp"
#include "sched/scheduler.hpp"

namespace fulcrum::test {
namespace {

uint32_t host(const char* dotted) { return ntohl(ip(dotted)); }

// mh, UDP, every flag set, two endpoints, two local addresses, two dests.
std::vector<uint32_t> packed() {
  std::vector<uint32_t> w(kServiceWords);
  w[kSvcId] = 4095;
  w[kSvcProto] = IPPROTO_UDP;
  w[kSvcVip] = host("10.0.0.100");
  w[kSvcPort] = 53;
  w[kSvcScheduler] = 10;  // scheduler_names()[10]
  w[kSvcMhTableSize] = 251;
  w[kSvcMhHashPort] = 1;
  w[kSvcMhFallback] = 1;
  w[kSvcLblcExpireMs] = 4'233'600'000;
  w[kSvcLblcrShrinkMs] = 60'000;
  w[kSvcPersistMs] = 4'233'600'000;
  w[kSvcPersistMask] = host("255.255.255.0");
  w[kSvcExpireNodest] = 1;
  w[kSvcSynproxy] = 1;
  w[kSvcTcp] = 900;
  w[kSvcTcpfin] = 120;
  w[kSvcUdp] = 4'233'600;
  w[kSvcClientAddress] = 2;  // proxy_v2
  w[kSvcExtras] = 2;
  w[kSvcLaddrs] = 2;
  w.insert(w.end(), {IPPROTO_TCP, host("10.0.0.101"), 0, IPPROTO_UDP, host("10.0.0.102"), 5353});
  w.insert(w.end(), {7, host("10.0.1.50"), 1023, host("10.0.1.51")});
  w.insert(w.end(), {9, host("10.0.1.11"), 8080, 3, 100, 1000, 750, 1});
  w.insert(w.end(), {1048575, host("10.0.1.12"), 0, 0, 0, 0, 0, 0});
  return w;
}

TEST(SpecTable, EveryWordLandsInItsField) {
  std::vector<uint32_t> w = packed();
  ServiceSpec s{};
  std::string err;
  ASSERT_TRUE(read_service_spec(w.data(), w.size(), s, err)) << err;
  EXPECT_EQ(s.id, 4095u);
  EXPECT_FALSE(s.keep);
  EXPECT_EQ(s.proto, IPPROTO_UDP);
  EXPECT_EQ(s.vip, ip("10.0.0.100"));
  EXPECT_EQ(s.vport, htons(53));
  EXPECT_EQ(s.scheduler, "mh");
  EXPECT_EQ(s.sched_opts.mh_table_size, 251u);
  EXPECT_TRUE(s.sched_opts.mh_hash_port);
  EXPECT_TRUE(s.sched_opts.mh_fallback);
  EXPECT_EQ(s.sched_opts.lblc_expire_ms, 4'233'600'000u);
  EXPECT_EQ(s.sched_opts.lblcr_shrink_ms, 60'000u);
  EXPECT_EQ(s.persist_ms, 4'233'600'000u);
  EXPECT_EQ(s.persist_mask, ip("255.255.255.0"));
  EXPECT_TRUE(s.expire_nodest);
  EXPECT_TRUE(s.synproxy);
  EXPECT_EQ(s.timeouts.tcp, 900u);
  EXPECT_EQ(s.timeouts.tcpfin, 120u);
  EXPECT_EQ(s.timeouts.udp, 4'233'600u);
  EXPECT_EQ(s.client_addr, ClientAddr::kProxyV2);
  ASSERT_EQ(s.extra.size(), 2u);
  EXPECT_EQ(s.extra[0].proto, IPPROTO_TCP);
  EXPECT_EQ(s.extra[0].vip, ip("10.0.0.101"));
  EXPECT_EQ(s.extra[0].vport, 0);
  EXPECT_EQ(s.extra[1].proto, IPPROTO_UDP);
  EXPECT_EQ(s.extra[1].vport, htons(5353));
  ASSERT_EQ(s.laddrs.size(), 2u);
  EXPECT_EQ(s.laddrs[0].id, 7u);
  EXPECT_EQ(s.laddrs[1].id, 1023u);
  EXPECT_EQ(s.laddrs[1].ip, ip("10.0.1.51"));
  ASSERT_EQ(s.dests.size(), 2u);
  const DestSpec& d = s.dests[0];
  EXPECT_EQ(d.id, 9u);
  EXPECT_EQ(d.ip, ip("10.0.1.11"));
  EXPECT_EQ(d.port, htons(8080));
  EXPECT_EQ(d.fwd, FwdMode::kFullnat);
  EXPECT_EQ(d.weight, 100u);
  EXPECT_EQ(d.upper, 1000u);
  EXPECT_EQ(d.lower, 750u);
  EXPECT_TRUE(d.available);
  EXPECT_EQ(s.dests[1].id, 1048575u);
  EXPECT_EQ(s.dests[1].fwd, FwdMode::kNat);
  EXPECT_FALSE(s.dests[1].available);
}

TEST(SpecTable, TheSchedulerWordIndexesTheRegistry) {
  std::vector<uint32_t> w = packed();
  std::vector<std::string> names = scheduler_names();
  for (size_t i = 0; i < names.size(); i++) {
    w[kSvcScheduler] = uint32_t(i);
    ServiceSpec s{};
    std::string err;
    ASSERT_TRUE(read_service_spec(w.data(), w.size(), s, err)) << err;
    EXPECT_EQ(s.scheduler, names[i]);
  }
}

// The error for w with one word changed.
std::string refusal(size_t word, uint32_t value, size_t size = 0) {
  std::vector<uint32_t> w = packed();
  w[word] = value;
  if (size != 0) w.resize(size);
  ServiceSpec s{};
  std::string err;
  EXPECT_FALSE(read_service_spec(w.data(), w.size(), s, err));
  return err;
}

TEST(SpecTable, WhatTheControlPlaneCouldNotHaveWrittenIsRefusedByName) {
  EXPECT_EQ(refusal(kSvcProto, 1), "packed service: unknown protocol 1");
  EXPECT_EQ(refusal(kSvcScheduler, 14), "packed service: unknown scheduler 14");
  EXPECT_EQ(refusal(kSvcClientAddress, 3), "packed service: unknown client address mode 3");
  EXPECT_EQ(refusal(kServiceWords, 0), "packed service: endpoint 0: unknown protocol 0");
  size_t fwd = kServiceWords + 2 * kExtraWords + 2 * kLaddrWords + kDestFwd;
  EXPECT_EQ(refusal(fwd, 5), "packed service: unknown forward mode 5");
  EXPECT_EQ(refusal(kSvcId, 1, kServiceWords - 1), "packed service: 19 words, fewer than the 20 of its head");
  // A count that would wrap a 32-bit length, and a dest cut short.
  EXPECT_EQ(refusal(kSvcExtras, 0x55555556),
            "packed service: 1431655766 endpoints and 2 local addresses do not fit in 46 words");
  std::vector<uint32_t> w = packed();
  EXPECT_EQ(refusal(kSvcId, 1, w.size() - 1), "packed service: the dests are not a whole number of 8 words");
}

}  // namespace
}  // namespace fulcrum::test
