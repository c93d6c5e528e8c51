// SPDX-License-Identifier: Apache-2.0
//
// Golden tests of the whole packet path: frames in, exact frames out.
//
// process_burst() runs on a hand-filled WorkerCtx with two ports and no
// device behind them, like the engine's worker would run it:
//   port 0: 02:00:00:00:00:01, 10.0.0.2/24, default route via 10.0.0.1
//   port 1: 02:00:00:00:01:01, 10.0.1.2/24
// Each case is a list of steps (a burst received on a port, or a neighbour
// tick at some time) with the exact frames each port must send and the
// exact change of every counter. Expected frames come from PacketBuilder,
// which shares no code with the dataplane.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "ctrl/snapshot_build.hpp"
#include "engine/pipeline.hpp"
#include "engine/worker_ctx.hpp"
#include "net/output.hpp"
#include "frame_expect.hpp"

namespace fulcrum::test {
namespace {

constexpr uint64_t kNow = 1'000'000;
constexpr uint64_t kRetry = 1000;
constexpr uint64_t kReachable = 1'000'000'000;

const Mac kPort0Mac = mac("02:00:00:00:00:01");
const Mac kPort1Mac = mac("02:00:00:00:01:01");
const uint32_t kAddr0 = ip("10.0.0.2");
const uint32_t kAddr1 = ip("10.0.1.2");
const uint32_t kGw = ip("10.0.0.1");
const Mac kGwMac = mac("02:aa:00:00:00:01");
const uint32_t kHost = ip("10.0.0.5");
const Mac kHostMac = mac("02:bb:00:00:00:05");
const Mac kHostNewMac = mac("02:bb:00:00:00:55");
const uint32_t kHost1 = ip("10.0.1.9");
const Mac kHost1Mac = mac("02:bb:00:00:01:09");
const uint32_t kRemote = ip("192.0.2.7");

// ---- Frames ----------------------------------------------------------

Bytes arp_request(const Mac& sha, uint32_t sip, uint32_t tip) {
  return PacketBuilder().eth(sha, kBroadcast).arp(1, sha, sip, kZeroMac, tip).build();
}
Bytes arp_reply(const Mac& sha, uint32_t sip, const Mac& tha, uint32_t tip) {
  return PacketBuilder().eth(sha, tha).arp(2, sha, sip, tha, tip).build();
}
Bytes garp(const Mac& sha, uint32_t addr) { return arp_request(sha, addr, addr); }

// An echo request as a peer sends it: TTL 61 (a few hops away), DF set,
// so the reply shows which fields are rewritten and which are kept.
PacketBuilder echo_base(const Mac& src_mac, const Mac& dst_mac, uint32_t src, uint32_t dst) {
  return PacketBuilder().eth(src_mac, dst_mac).ipv4(src, dst).ip_id(0x4242).frag(0x4000);
}
Bytes echo_request(const Mac& src_mac, const Mac& dst_mac, uint32_t src, uint32_t dst,
                   uint16_t seq = 1) {
  return echo_base(src_mac, dst_mac, src, dst).ttl(61).icmp_echo_request(0x77, seq)
      .payload_size(24).build();
}
// The reply we must send: addresses swapped, TTL 64, type 0, rest kept.
Bytes echo_reply(const Mac& src_mac, const Mac& dst_mac, uint32_t src, uint32_t dst,
                 uint16_t seq = 1) {
  return echo_base(src_mac, dst_mac, src, dst).ttl(64).icmp_echo_reply(0x77, seq)
      .payload_size(24).build();
}

// Frames the dataplane originates.
Bytes our_arp_request(const Mac& port_mac, uint32_t sip, uint32_t tip) {
  return PacketBuilder().eth(port_mac, kBroadcast).arp(1, port_mac, sip, kZeroMac, tip).build();
}
Bytes our_arp_reply(const Mac& port_mac, uint32_t our, const Mac& to_mac, uint32_t to) {
  return PacketBuilder().eth(port_mac, to_mac).arp(2, port_mac, our, to_mac, to).build();
}

// ---- Cases -----------------------------------------------------------

using Deltas = std::vector<std::pair<Counter, uint64_t>>;

struct Step {
  uint16_t port = 0;                // receiving port of the burst
  std::vector<Bytes> in;            // the burst
  std::optional<uint64_t> tick_at;  // instead of a burst: neigh_tick() at this time
  std::vector<Bytes> out0, out1;    // exact frames queued on each port, in order
  Deltas counters;                  // every other counter must not move
                                    // (rx_packets/rx_bytes are added for bursts)
};

struct Case {
  const char* name;
  std::vector<Step> steps;
};

// The neighbour asks for our address on its port and gets our reply,
// which also teaches us its MAC.
Step learned(uint16_t port, uint32_t host, const Mac& host_mac) {
  uint32_t our = port == 0 ? kAddr0 : kAddr1;
  const Mac& port_mac = port == 0 ? kPort0Mac : kPort1Mac;
  Step s{.port = port,
         .in = {arp_request(host_mac, host, our)},
         .counters = {{Counter::arp_replies_sent, 1}, {Counter::neigh_learned, 1}}};
  (port == 0 ? s.out0 : s.out1) = {our_arp_reply(port_mac, our, host_mac, host)};
  return s;
}

// An echo request from an unresolved neighbour on port 0: the reply is
// held and one ARP request goes out instead.
Step echo_waits_for_arp(const Mac& from_mac, uint32_t from, uint32_t next_hop) {
  return Step{.in = {echo_request(from_mac, kPort0Mac, from, kAddr0)},
              .out0 = {our_arp_request(kPort0Mac, kAddr0, next_hop)},
              .counters = {{Counter::icmp_echo_replies, 1},
                           {Counter::neigh_held, 1},
                           {Counter::arp_requests_sent, 1}}};
}

// An echo request from kHost, answered straight to host_mac.
Step echo_answered(const Mac& host_mac) {
  return Step{.in = {echo_request(host_mac, kPort0Mac, kHost, kAddr0)},
              .out0 = {echo_reply(kPort0Mac, host_mac, kAddr0, kHost)},
              .counters = {{Counter::icmp_echo_replies, 1}}};
}

// A single frame to 10.0.0.2 on port 0 that is dropped for `why`.
Step dropped(Bytes frame, Counter why) {
  return Step{.in = {std::move(frame)}, .counters = {{why, 1}}};
}

PacketBuilder to_us() {
  return PacketBuilder().eth(kHostMac, kPort0Mac).ipv4(kHost, kAddr0);
}

std::vector<Case> golden_cases() {
  return {
      {"ArpRequestForOurAddressIsAnswered", {learned(0, kHost, kHostMac)}},
      {"ArpRequestForAnUnownedAddressIsIgnoredAndNotLearned",
       {dropped(arp_request(kHostMac, kHost, ip("10.0.0.99")), Counter::drop_arp_not_ours),
        // Not learned: replying to the host still needs ARP.
        echo_waits_for_arp(kHostMac, kHost, kHost)}},
      {"ArpRequestForTheOtherPortsAddressIsNotAnswered",
       {dropped(arp_request(kHostMac, kHost, kAddr1), Counter::drop_arp_not_ours)}},
      {"MalformedArpOpcodeIsDropped",
       {dropped(PacketBuilder().eth(kHostMac, kBroadcast).arp(3, kHostMac, kHost, kZeroMac, kAddr0)
                    .build(),
                Counter::drop_arp_malformed)}},
      {"EchoFromALearnedNeighbourIsAnswered", {learned(0, kHost, kHostMac), echo_answered(kHostMac)}},
      {"EchoFromAnUnknownNeighbourIsSentOnceArpResolves",
       {echo_waits_for_arp(kHostMac, kHost, kHost),
        Step{.in = {arp_reply(kHostMac, kHost, kPort0Mac, kAddr0)},
             .out0 = {echo_reply(kPort0Mac, kHostMac, kAddr0, kHost)},
             .counters = {{Counter::neigh_released, 1}, {Counter::neigh_learned, 1}}}}},
      {"EchoFromOffSubnetIsRoutedViaTheGateway",
       {Step{.in = {echo_request(kGwMac, kPort0Mac, kRemote, kAddr0)},
             .out0 = {our_arp_request(kPort0Mac, kAddr0, kGw)},
             .counters = {{Counter::icmp_echo_replies, 1},
                          {Counter::neigh_held, 1},
                          {Counter::arp_requests_sent, 1}}},
        Step{.in = {arp_reply(kGwMac, kGw, kPort0Mac, kAddr0)},
             .out0 = {echo_reply(kPort0Mac, kGwMac, kAddr0, kRemote)},
             .counters = {{Counter::neigh_released, 1}, {Counter::neigh_learned, 1}}}}},
      {"EchoOnPort1IsAnsweredOnPort1",
       {learned(1, kHost1, kHost1Mac),
        Step{.port = 1,
             .in = {echo_request(kHost1Mac, kPort1Mac, kHost1, kAddr1)},
             .out1 = {echo_reply(kPort1Mac, kHost1Mac, kAddr1, kHost1)},
             .counters = {{Counter::icmp_echo_replies, 1}}}}},
      // 42 bytes padded to the 60-byte Ethernet minimum: the padding is
      // not part of the IP packet and must not be echoed back.
      {"PaddedEchoGetsAnUnpaddedReply",
       {learned(0, kHost, kHostMac),
        Step{.in = {to_us().ttl(61).icmp_echo_request(9, 9).pad_to(60).build()},
             .out0 = {PacketBuilder().eth(kPort0Mac, kHostMac).ipv4(kAddr0, kHost)
                          .icmp_echo_reply(9, 9).build()},
             .counters = {{Counter::icmp_echo_replies, 1}}}}},
      {"EchoWithIpOptionsKeepsThemAndFixesTheChecksum",
       {learned(0, kHost, kHostMac),
        Step{.in = {to_us().ttl(3).ip_options({1, 1, 1, 0}).icmp_echo_request(5, 6)
                        .payload_size(8).build()},
             .out0 = {PacketBuilder().eth(kPort0Mac, kHostMac).ipv4(kAddr0, kHost)
                          .ip_options({1, 1, 1, 0}).icmp_echo_reply(5, 6).payload_size(8)
                          .build()},
             .counters = {{Counter::icmp_echo_replies, 1}}}}},
      {"BadIpChecksumIsDropped",
       {dropped(to_us().bad_ip_checksum().icmp_echo_request(1, 1).build(),
                Counter::drop_ip_checksum)}},
      {"FragmentIsDropped",
       {dropped(to_us().frag(0x2000).icmp_echo_request(1, 1).payload_size(64).build(),
                Counter::drop_ip_fragment)}},
      {"UnknownEthertypeIsDropped",
       {dropped(PacketBuilder().eth(kHostMac, kPort0Mac, 0x86dd).payload_size(40).build(),
                Counter::drop_ethertype)}},
      {"TcpToOurAddressHasNoService",
       {dropped(to_us().tcp(40000, 80, tcpflag::kSyn).build(), Counter::drop_no_service)}},
      {"UdpToOurAddressHasNoService",
       {dropped(to_us().udp(40000, 53).payload_size(12).build(), Counter::drop_no_service)}},
      {"IcmpTimestampRequestIsNotAnswered",
       {dropped(to_us().icmp(13, 0, 0x00010001).payload_size(12).build(),
                Counter::drop_icmp_type)}},
      {"PacketForAForeignAddressIsDropped",
       {dropped(echo_request(kHostMac, kPort0Mac, kHost, ip("10.0.0.77")),
                Counter::drop_not_ours)}},
      {"GratuitousArpUpdatesAKnownNeighbour",
       {learned(0, kHost, kHostMac),
        dropped(garp(kHostNewMac, kHost), Counter::drop_arp_not_ours),
        echo_answered(kHostNewMac)}},
      {"GratuitousArpFromAStrangerTeachesNothing",
       {dropped(garp(kHostMac, kHost), Counter::drop_arp_not_ours),
        echo_waits_for_arp(kHostMac, kHost, kHost)}},
      // hold = 4: the fifth reply is dropped; the four held ones leave in
      // the order they arrived once the neighbour answers.
      {"HeldRepliesAreCappedAndReleasedInOrder",
       {Step{.in = {echo_request(kHostMac, kPort0Mac, kHost, kAddr0, 1),
                    echo_request(kHostMac, kPort0Mac, kHost, kAddr0, 2),
                    echo_request(kHostMac, kPort0Mac, kHost, kAddr0, 3),
                    echo_request(kHostMac, kPort0Mac, kHost, kAddr0, 4),
                    echo_request(kHostMac, kPort0Mac, kHost, kAddr0, 5)},
             .out0 = {our_arp_request(kPort0Mac, kAddr0, kHost)},
             .counters = {{Counter::icmp_echo_replies, 5},
                          {Counter::neigh_held, 4},
                          {Counter::arp_requests_sent, 1},
                          {Counter::drop_neigh_hold_full, 1}}},
        Step{.in = {arp_reply(kHostMac, kHost, kPort0Mac, kAddr0)},
             .out0 = {echo_reply(kPort0Mac, kHostMac, kAddr0, kHost, 1),
                      echo_reply(kPort0Mac, kHostMac, kAddr0, kHost, 2),
                      echo_reply(kPort0Mac, kHostMac, kAddr0, kHost, 3),
                      echo_reply(kPort0Mac, kHostMac, kAddr0, kHost, 4)},
             .counters = {{Counter::neigh_released, 4}, {Counter::neigh_learned, 1}}}}},
      // retries = 3: two more requests from the tick, then the held reply
      // is dropped and the next packet starts over.
      {"UnansweredArpIsRetriedThenGivenUp",
       {echo_waits_for_arp(kHostMac, kHost, kHost),
        Step{.tick_at = kNow + kRetry - 1},
        Step{.tick_at = kNow + kRetry,
             .out0 = {our_arp_request(kPort0Mac, kAddr0, kHost)},
             .counters = {{Counter::arp_requests_sent, 1}}},
        Step{.tick_at = kNow + 2 * kRetry,
             .out0 = {our_arp_request(kPort0Mac, kAddr0, kHost)},
             .counters = {{Counter::arp_requests_sent, 1}}},
        Step{.tick_at = kNow + 3 * kRetry, .counters = {{Counter::drop_neigh_failed, 1}}},
        echo_waits_for_arp(kHostMac, kHost, kHost)}},
      {"LearnedNeighbourExpiresAndIsAskedForAgain",
       {learned(0, kHost, kHostMac),
        Step{.tick_at = kNow + kReachable},
        echo_waits_for_arp(kHostMac, kHost, kHost)}},
      // The same two, with the next hop cached by an echo before the change
      // (net/nexthop_cache.hpp): a replaced MAC and a forgotten neighbour
      // must reach the packets after it.
      {"CachedNextHopFollowsAGratuitousArp",
       {learned(0, kHost, kHostMac), echo_answered(kHostMac),
        dropped(garp(kHostNewMac, kHost), Counter::drop_arp_not_ours),
        echo_answered(kHostNewMac)}},
      {"CachedNextHopIsForgottenWithItsNeighbour",
       {learned(0, kHost, kHostMac), echo_answered(kHostMac),
        Step{.tick_at = kNow + kReachable},
        echo_waits_for_arp(kHostMac, kHost, kHost)}},
      // One burst, every kind of outcome, replies in arrival order.
      {"MixedBurstIsHandledInOrder",
       {learned(0, kHost, kHostMac),
        Step{.in = {echo_request(kHostMac, kPort0Mac, kHost, kAddr0, 1),
                    to_us().bad_ip_checksum().icmp_echo_request(1, 1).build(),
                    arp_request(kHostMac, kHost, kAddr0),
                    to_us().tcp(40000, 80, tcpflag::kSyn).build(),
                    echo_request(kHostMac, kPort0Mac, kHost, kAddr0, 2),
                    echo_request(kHostMac, kPort0Mac, kHost, ip("10.9.9.9"))},
             .out0 = {echo_reply(kPort0Mac, kHostMac, kAddr0, kHost, 1),
                      our_arp_reply(kPort0Mac, kAddr0, kHostMac, kHost),
                      echo_reply(kPort0Mac, kHostMac, kAddr0, kHost, 2)},
             .counters = {{Counter::icmp_echo_replies, 2},
                          {Counter::drop_ip_checksum, 1},
                          {Counter::arp_replies_sent, 1},
                          {Counter::neigh_learned, 1},
                          {Counter::drop_no_service, 1},
                          {Counter::drop_not_ours, 1}}}}},
  };
}

// ---- Fixture ---------------------------------------------------------

SnapshotSpec base_spec() {
  SnapshotSpec spec;
  spec.addresses = {{kAddr0, 24, 0}, {kAddr1, 24, 1}};
  spec.routes = {{0, 0, 0, kGw}};
  return spec;
}

class Golden : public ::testing::Test {
 protected:
  void SetUp() override {
    pool_start_ = rte_mempool_avail_count(test_pool());
    ctr_ = std::make_unique<LcoreCounters>();  // value-initialised: all zero
    NeighConfig nc;
    nc.reachable_tsc = kReachable;
    nc.retry_tsc = kRetry;
    nc.retries = 3;
    nc.hold = 4;
    std::string err;
    neigh_ = NeighTable::create(nc, unique_name("golden_n").c_str(), SOCKET_ID_ANY, err);
    ASSERT_NE(neigh_, nullptr) << err;
    snap_ = build_snapshot(base_spec(), nullptr, 1, SnapshotLimits{2, 64, 256}, err);
    ASSERT_NE(snap_, nullptr) << err;
    ctx_ = std::make_unique<WorkerCtx>();
    ctx_->nports = 2;
    ctx_->ports[0].mac = ether(kPort0Mac);
    ctx_->ports[1].mac = ether(kPort1Mac);
    ctx_->ctr = ctr_.get();
    ctx_->neigh = neigh_.get();
    ctx_->pool = test_pool();
    ctx_->snap = snap_.get();
    ctx_->now = kNow;
  }

  void TearDown() override {
    if (ctx_) {
      take_output(0);
      take_output(1);
    }
    neigh_.reset();  // frees whatever it still holds
    EXPECT_EQ(rte_mempool_avail_count(test_pool()), pool_start_) << "mbufs leaked";
  }

  std::vector<Bytes> take_output(uint16_t port) { return test::take_output(ctx_->tx, port); }
  void expect_frames(uint16_t port, const std::vector<Bytes>& want) {
    test::expect_frames(ctx_->tx, port, want);
  }

  void expect_counters(const LcoreCounters& before, Deltas want) {
    uint64_t expected[kCounterCount] = {};
    for (auto& [c, n] : want) expected[static_cast<size_t>(c)] += n;
    for (size_t i = 0; i < kCounterCount; i++)
      EXPECT_EQ(ctr_->v[i] - before.v[i], expected[i]) << "counter " << kCounterNames[i];
  }

  void run(const Step& st) {
    LcoreCounters before = *ctr_;
    Deltas want = st.counters;
    if (st.tick_at) {
      ctx_->now = *st.tick_at;
      neigh_tick(*ctx_);
    } else {
      uint64_t bytes = feed_burst(*ctx_, st.port, st.in);
      want.emplace_back(Counter::rx_packets, st.in.size());
      want.emplace_back(Counter::rx_bytes, bytes);
    }
    expect_frames(0, st.out0);
    expect_frames(1, st.out1);
    expect_counters(before, want);
  }

  unsigned pool_start_ = 0;
  std::unique_ptr<LcoreCounters> ctr_;
  std::unique_ptr<NeighTable> neigh_;
  std::unique_ptr<Snapshot> snap_;
  std::unique_ptr<WorkerCtx> ctx_;
};

class GoldenCase : public Golden, public ::testing::WithParamInterface<Case> {};

TEST_P(GoldenCase, Steps) {
  const Case& c = GetParam();
  for (size_t i = 0; i < c.steps.size(); i++) {
    SCOPED_TRACE("step " + std::to_string(i));
    run(c.steps[i]);
  }
}

INSTANTIATE_TEST_SUITE_P(Pipeline, GoldenCase, ::testing::ValuesIn(golden_cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.name);
                         });

// ---- Gratuitous ARP for new addresses --------------------------------

TEST_F(Golden, AnnounceFromGenerationZeroCoversEveryAddress) {
  LcoreCounters before = *ctr_;
  EXPECT_EQ(announce_addresses(*ctx_, 0), 1u);
  expect_frames(0, {our_arp_request(kPort0Mac, kAddr0, kAddr0)});
  expect_frames(1, {our_arp_request(kPort1Mac, kAddr1, kAddr1)});
  expect_counters(before, {{Counter::garp_sent, 2}});
}

TEST_F(Golden, AnnounceSendsOneGarpPerAddressAddedAfterTheGeneration) {
  SnapshotSpec spec = base_spec();
  const uint32_t added0 = ip("10.0.0.3"), added1 = ip("10.0.1.3");
  spec.addresses.push_back({added0, 24, 0});
  spec.addresses.push_back({added1, 24, 1});
  std::string err;
  auto next = build_snapshot(spec, snap_.get(), 2, SnapshotLimits{2, 64, 256}, err);
  ASSERT_NE(next, nullptr) << err;
  ctx_->snap = next.get();

  LcoreCounters before = *ctr_;
  EXPECT_EQ(announce_addresses(*ctx_, 1), 2u);
  expect_frames(0, {our_arp_request(kPort0Mac, added0, added0)});
  expect_frames(1, {our_arp_request(kPort1Mac, added1, added1)});
  expect_counters(before, {{Counter::garp_sent, 2}});

  before = *ctr_;
  EXPECT_EQ(announce_addresses(*ctx_, 2), 2u);
  expect_frames(0, {});
  expect_frames(1, {});
  expect_counters(before, {});
  ctx_->snap = snap_.get();
}

// ---- A route change under a cached next hop ----------------------------

// The reply to kHost, on port 0's subnet, has its next hop cached; a
// snapshot with a host route to kHost via kHost1 on port 1 must take the
// very next reply there, and a reply to kRemote (behind the gateway, whose
// next hop is cached under the gateway) still leaves via the gateway.
TEST_F(Golden, CachedNextHopFollowsARouteChange) {
  run(learned(0, kHost, kHostMac));
  run(learned(0, kGw, kGwMac));
  run(learned(1, kHost1, kHost1Mac));
  const Step via_gw{.in = {echo_request(kGwMac, kPort0Mac, kRemote, kAddr0)},
                    .out0 = {echo_reply(kPort0Mac, kGwMac, kAddr0, kRemote)},
                    .counters = {{Counter::icmp_echo_replies, 1}}};
  for (int i = 0; i < 2; i++) run(echo_answered(kHostMac)), run(via_gw);

  SnapshotSpec spec = base_spec();
  spec.routes.push_back({kHost, 32, 1, kHost1});
  std::string err;
  auto next = build_snapshot(spec, snap_.get(), 2, SnapshotLimits{2, 64, 256}, err);
  ASSERT_NE(next, nullptr) << err;
  ctx_->snap = next.get();
  run(Step{.in = {echo_request(kHostMac, kPort0Mac, kHost, kAddr0)},
           .out1 = {echo_reply(kPort1Mac, kHost1Mac, kAddr0, kHost)},
           .counters = {{Counter::icmp_echo_replies, 1}}});
  run(via_gw);
  ctx_->snap = snap_.get();
}

// An echo request with id 0, seq 0 and no payload: the incremental update
// alone would answer with ICMP checksum 0x0000, which the sender drops
// (see checksum_test.cpp); the reply must carry 0xffff.
TEST_F(Golden, EchoWithZeroIdSeqAndNoPayloadGetsAValidReply) {
  run(learned(0, kHost, kHostMac));
  run(Step{.in = {to_us().icmp_echo_request(0, 0).build()},
           .out0 = {PacketBuilder().eth(kPort0Mac, kHostMac).ipv4(kAddr0, kHost)
                        .icmp_echo_reply(0, 0).build()},
           .counters = {{Counter::icmp_echo_replies, 1}}});
}

// ---- A full tx batch ---------------------------------------------------

// A port's batch holds kTxCap packets until the worker flushes it (the
// ring's own refusals are worker_flush's: test/engine/tx_full_test.cpp);
// a packet beyond that is refused, counted and freed (TearDown checks the
// pool), and the batch keeps what it had.
TEST_F(Golden, PacketsBeyondAFullTxBatchAreCountedAndFreed) {
  const std::vector<Bytes> burst(kBurst, arp_request(kHostMac, kHost, kAddr0));
  for (uint16_t n = 0; n < kTxCap; n += kBurst) feed_burst(*ctx_, 0, burst);
  EXPECT_EQ(ctx_->tx.n[0], kTxCap);
  EXPECT_EQ(ctr_->get(Counter::drop_tx_full), 0u);
  feed_burst(*ctx_, 0, burst);
  EXPECT_EQ(ctx_->tx.n[0], kTxCap);
  EXPECT_EQ(ctr_->get(Counter::drop_tx_full), kBurst);
  EXPECT_EQ(ctr_->get(Counter::arp_replies_sent), kTxCap + kBurst);
  EXPECT_EQ(take_output(0).size(), kTxCap);
}

}  // namespace
}  // namespace fulcrum::test
