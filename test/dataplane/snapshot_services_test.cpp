// SPDX-License-Identifier: Apache-2.0
//
// The service part of a snapshot across generations: a service whose
// scheduler inputs did not change keeps the previous snapshot's scheduler
// (and so its workers' scheduler state), one that changed gets a new one;
// VIPs and local addresses, merged into the owned addresses at once, stay
// sorted and findable.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ipvs_world.hpp"

namespace fulcrum::test::ipvsgold {
namespace {

std::unique_ptr<Snapshot> build(const SnapshotSpec& spec, uint64_t gen, const Snapshot* prev) {
  std::string err;
  auto s = build_snapshot(spec, prev, gen, kLimits, err);
  EXPECT_NE(s, nullptr) << err;
  return s;
}

TEST(SnapshotServices, UnchangedSchedulersAreSharedChangedOnesRebuilt) {
  auto a = build(ipvs_spec(), 1, nullptr);
  auto b = build(ipvs_spec(), 2, a.get());
  auto c = build(ipvs_spec(3), 3, b.get());  // web's first dest reweighted
  ASSERT_TRUE(a && b && c);
  for (const ServiceTable::Shared& sb : b->services->services()) {
    const Service* sa = a->services->by_id(sb->id);
    ASSERT_NE(sa, nullptr);
    EXPECT_EQ(sb->sched.get(), sa->sched.get()) << "service " << sb->id;
    EXPECT_EQ(sb->sched_gen, 1u) << "service " << sb->id;
  }
  for (const ServiceTable::Shared& sc : c->services->services()) {
    const Service* sb = b->services->by_id(sc->id);
    bool web = sc->id == kSvcWeb;
    EXPECT_EQ(sc->sched.get() == sb->sched.get(), !web) << "service " << sc->id;
    EXPECT_EQ(sc->sched_gen, web ? 3u : 1u) << "service " << sc->id;
  }
}

// A service the control plane sends by id alone (unchanged since the last
// apply) is the previous snapshot's very object, its scheduler and
// generation with it; the others are built anew. An id the previous
// snapshot does not have is refused by name, and nothing is published.
TEST(SnapshotServices, KeptServicesAreThePreviousSnapshotsObjects) {
  auto a = build(ipvs_spec(), 1, nullptr);
  ASSERT_TRUE(a);
  SnapshotSpec spec = ipvs_spec(3);  // web's first dest reweighted
  for (ServiceSpec& s : spec.services) {
    if (s.id == kSvcWeb) continue;
    uint32_t id = s.id;
    s = ServiceSpec{};
    s.id = id;
    s.keep = true;
  }
  auto b = build(spec, 2, a.get());
  ASSERT_TRUE(b);
  ASSERT_EQ(b->services->services().size(), a->services->services().size());
  for (const ServiceTable::Shared& sb : b->services->services()) {
    bool web = sb->id == kSvcWeb;
    EXPECT_EQ(sb.get() == a->services->by_id(sb->id), !web) << "service " << sb->id;
    EXPECT_EQ(sb->sched_gen, web ? 2u : 1u) << "service " << sb->id;
    EXPECT_FALSE(sb->dests.empty()) << "service " << sb->id;
  }
  // The kept services' VIPs are still owned, and still found by endpoint.
  EXPECT_NE(b->find_owned(kVipFnat), nullptr);
  const Service* fnat = b->services->find(IPPROTO_TCP, kVipFnat, rte_cpu_to_be_16(80));
  ASSERT_NE(fnat, nullptr);
  EXPECT_EQ(fnat, a->services->find(IPPROTO_TCP, kVipFnat, rte_cpu_to_be_16(80)));

  spec.services.push_back(ServiceSpec{});
  spec.services.back().id = 999;
  spec.services.back().keep = true;
  std::string err;
  EXPECT_EQ(build_snapshot(spec, b.get(), 3, kLimits, err), nullptr);
  EXPECT_EQ(err, "service 999: kept, but the previous snapshot has no such service");
  // Nor is anything kept from no snapshot at all.
  SnapshotSpec only_kept;
  only_kept.services.push_back(spec.services.back());
  only_kept.services.back().id = kSvcWeb;
  EXPECT_EQ(build_snapshot(only_kept, nullptr, 3, kLimits, err), nullptr);
  EXPECT_EQ(err, "service " + std::to_string(kSvcWeb) + ": kept, but the previous snapshot has no such service");
}

TEST(SnapshotServices, VipsAndLocalAddressesAreOwnedSortedAndFlagged) {
  auto s = build(ipvs_spec(), 1, nullptr);
  ASSERT_TRUE(s);
  EXPECT_TRUE(std::is_sorted(s->addresses.begin(), s->addresses.end(),
                             [](const OwnedAddress& x, const OwnedAddress& y) { return x.ip < y.ip; }));
  EXPECT_TRUE(std::adjacent_find(s->addresses.begin(), s->addresses.end(), [](const OwnedAddress& x, const OwnedAddress& y) {
                return x.ip == y.ip;
              }) == s->addresses.end());
  for (uint32_t vip : {kVip, kVipDr, kVipTun, kVipSticky, kVipFnat, kVipToa}) {
    const OwnedAddress* a = s->find_owned(vip);
    ASSERT_NE(a, nullptr);
    EXPECT_TRUE(a->vip);
  }
  const OwnedAddress* laddr = s->find_owned(kLaddr);
  ASSERT_NE(laddr, nullptr);
  EXPECT_TRUE(laddr->laddr);
  EXPECT_TRUE(s->has_laddrs);
  EXPECT_FALSE(s->find_owned(kWan)->vip);
  // A second generation keeps the VIPs' added generation (no new GARP).
  auto next = build(ipvs_spec(), 2, s.get());
  EXPECT_EQ(next->find_owned(kVip)->added_gen, 1u);
}

// A snapshot whose owned addresses are the previous one's shares its
// index, which gives positions: what it finds is its own entry, flags and
// all. Here a VIP becomes a local address too: the same addresses.
TEST(SnapshotServices, ASharedIndexFindsTheNewSnapshotsEntries) {
  auto a = build(ipvs_spec(), 1, nullptr);
  ASSERT_TRUE(a);
  SnapshotSpec spec = ipvs_spec();
  for (ServiceSpec& s : spec.services)
    if (s.id == kSvcFnat) s.laddrs.push_back(Laddr{3, kVipDr});
  auto b = build(spec, 2, a.get());
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->owned_index.shares(a->owned_index));
  ASSERT_NE(a->find_owned(kVipDr), nullptr);
  ASSERT_NE(b->find_owned(kVipDr), nullptr);
  EXPECT_FALSE(a->find_owned(kVipDr)->laddr);
  EXPECT_TRUE(b->find_owned(kVipDr)->laddr);
}

// Replies from NAT dests go to their client's worker, so the snapshot
// knows every NAT dest address. A publication changes the previous
// snapshot's set by what changed (the services built anew, those gone).
TEST(SnapshotServices, NatDestAddressesFollowTheServices) {
  const uint32_t moved = ip("10.0.1.13");
  auto a = build(ipvs_spec(), 1, nullptr);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_nat_dest(kRs1) && a->is_nat_dest(kRs2));
  EXPECT_FALSE(a->is_nat_dest(moved));
  auto b = build(ipvs_spec(3), 2, a.get());  // a reweight
  ASSERT_TRUE(b);
  EXPECT_EQ(b->nat_dests, a->nat_dests);
  // Neither list changed: b looks them up in a's very indexes.
  EXPECT_TRUE(b->nat_dest_index.shares(a->nat_dest_index));
  EXPECT_TRUE(b->owned_index.shares(a->owned_index));
  SnapshotSpec spec = ipvs_spec();
  spec.services[0].dests[0].ip = moved;  // web's first dest moves
  auto c = build(spec, 3, b.get());
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->is_nat_dest(moved));
  // web replaced by another service (as many services, an id b lacks).
  SnapshotSpec replaced = spec;
  replaced.services[0] = service(13, IPPROTO_TCP, kVipDr, 81, {dest(17, moved, 80, FwdMode::kDr)});
  auto d = build(replaced, 4, c.get());
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->is_nat_dest(moved));
  EXPECT_TRUE(d->is_nat_dest(kRs1) && d->is_nat_dest(kRs2));
  // web removed.
  spec.services.erase(spec.services.begin());
  auto e = build(spec, 5, c.get());
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->is_nat_dest(moved));
}

// The NAT dest set made from the previous snapshot's is, over random
// publications (services kept, rebuilt, added and removed; dests moved,
// shared between services, switched between NAT and DR), exactly the NAT
// dest addresses of the services that run.
TEST(SnapshotServices, NatDestAddressesFromThePreviousSetAreThoseOfAFullBuild) {
  uint32_t x = 11;
  auto r = [&](uint32_t n) { return ((x = x * 1103515245u + 12345u) >> 16 & 0x7fff) % n; };
  std::unique_ptr<Snapshot> prev;
  std::vector<ServiceSpec> live;
  for (uint64_t gen = 1; gen <= 300; gen++) {
    SnapshotSpec spec = ipvs_spec();
    spec.services.clear();
    std::vector<ServiceSpec> next;
    for (const ServiceSpec& s : live) {
      uint32_t what = r(6);
      if (what == 0) continue;  // removed
      ServiceSpec t = s;
      if (what == 1) t.dests[r(uint32_t(t.dests.size()))].ip = ip("10.0.1.0") + htonl(1 + r(6));
      if (what == 2) t.dests[0].fwd = t.dests[0].fwd == FwdMode::kNat ? FwdMode::kDr : FwdMode::kNat;
      if (what >= 3) {  // sent by id: the previous snapshot's object
        t = ServiceSpec{};
        t.id = s.id;
        t.keep = true;
      }
      next.push_back(t);
    }
    while (next.size() < 6 && r(2) == 0) {
      uint32_t id = 0;
      while (std::any_of(next.begin(), next.end(), [&](const ServiceSpec& s) { return s.id == id; })) id++;
      std::vector<DestSpec> dests;
      for (uint32_t j = 0, n = 1 + r(3); j < n; j++)
        dests.push_back(dest(id * 3 + j, ip("10.0.1.0") + htonl(1 + r(6)), uint16_t(8080 + j), r(3) == 0 ? FwdMode::kDr : FwdMode::kNat));
      next.push_back(service(id, IPPROTO_TCP, kVip, uint16_t(100 + id), dests));
    }
    spec.services = next;
    auto s = build(spec, gen, prev.get());
    ASSERT_TRUE(s);
    // The same services in full, built from nothing.
    SnapshotSpec full = spec;
    full.services.clear();
    for (const ServiceTable::Shared& svc : s->services ? s->services->services() : std::vector<ServiceTable::Shared>{}) {
      const ServiceSpec* sent = nullptr;
      for (const ServiceSpec& t : next) if (t.id == svc->id && !t.keep) sent = &t;
      for (const ServiceSpec& t : live) if (sent == nullptr && t.id == svc->id) sent = &t;
      ASSERT_NE(sent, nullptr);
      full.services.push_back(*sent);
    }
    std::vector<uint32_t> expected;
    for (const ServiceSpec& t : full.services)
      for (const DestSpec& d : t.dests)
        if (d.fwd == FwdMode::kNat) expected.push_back(d.ip);
    std::sort(expected.begin(), expected.end());
    expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
    ASSERT_EQ(s->nat_dests, expected) << "generation " << gen;
    // The index finds them all, and is the previous one exactly when the set is the same.
    for (uint32_t a : expected) ASSERT_TRUE(s->is_nat_dest(a)) << "generation " << gen;
    if (prev != nullptr) {
      ASSERT_EQ(s->nat_dest_index.shares(prev->nat_dest_index), s->nat_dests == prev->nat_dests) << "generation " << gen;
    }
    // What runs now, in full, for the next round.
    live = full.services;
    prev = std::move(s);
  }
}

// dataplane.synproxy.max_conns sizes each worker's SYN proxy state pool;
// at 0 there is none, and a synproxy service is refused by name instead
// of having every client's ACK dropped for want of state.
TEST(SnapshotServices, SynproxyStateIsSizedAndAServiceNeedingItRefusedWhenOff) {
  std::vector<DestStats> dests(kMaxDests);
  std::vector<ServiceStats> svcs(kMaxServices);
  std::vector<LaddrStats> laddrs(kMaxLaddrs);
  std::string err;
  auto worker = [&](uint32_t sp_conns) {
    IpvsConfig cfg{.max_conns = 4096, .max_services = kMaxServices, .max_dests = kMaxDests, .max_laddrs = kMaxLaddrs};
    cfg.synproxy.max_conns = sp_conns;
    return IpvsWorker::create(0, 1, cfg, dests.data(), svcs.data(), laddrs.data(), err);
  };
  auto all = worker(kSynproxyAllConns);
  ASSERT_NE(all, nullptr) << err;
  EXPECT_EQ(all->sp_pool->size, 4096u);
  all.reset();
  auto few = worker(100);
  ASSERT_NE(few, nullptr) << err;
  EXPECT_EQ(few->sp_pool->size, 100u);
  few.reset();
  auto none = worker(0);
  ASSERT_NE(none, nullptr) << err;
  EXPECT_EQ(none->sp_pool, nullptr);

  SnapshotLimits off = kLimits;
  off.synproxy = false;
  EXPECT_EQ(build_snapshot(ipvs_spec(), nullptr, 1, off, err), nullptr);
  EXPECT_EQ(err, "service " + std::to_string(kSvcSynproxy) +
                     ": synproxy is on, but the SYN proxy is off (dataplane.synproxy.max_conns is 0)");
}

}  // namespace
}  // namespace fulcrum::test::ipvsgold
