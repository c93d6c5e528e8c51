// SPDX-License-Identifier: Apache-2.0
//
// Golden tests of the IPVS forwarding path: frames in, exact frames out.
// The fixture, its topology and services are in ipvs_fixture.hpp.
#include <netinet/in.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "ipvs_fixture.hpp"

namespace fulcrum::test {
namespace {

using namespace ipvsgold;

// ---- 1-3. NAT --------------------------------------------------------

// The client's SYN goes to rr's first dest with only the destination
// address and port rewritten (TTL, id, DF, seq kept) and both checksums
// equal to a from-scratch computation; Ethernet from the lan port to the
// dest's MAC.
TEST_F(IpvsGolden, NatSynGoesToTheFirstRrDestWithTheDestinationRewritten) {
  const Flow f = web_to_rs1();
  run(nat_syn(f));
  EXPECT_EQ(ipvs_->conns->size(), 1u);
}

// The dest's SYN-ACK is matched by the out key and leaves from the VIP;
// the client's ACK establishes the connection: the dest's gauges move
// from inactive to active.
TEST_F(IpvsGolden, NatReplyLeavesFromTheVipAndTheHandshakeEstablishes) {
  const Flow f = web_to_rs1();
  run(nat_handshake(f));
  EXPECT_EQ(dest_stat(kWeb1, DestStat::active), 1u);
  EXPECT_EQ(dest_stat(kWeb1, DestStat::inactive), 0u);
  // Data both ways keeps going through the same connection.
  run(nat_in(f, kAck | kPsh));
  run(nat_out(f, kAck | kPsh));
}

TEST_F(IpvsGolden, RrSendsTheSecondFlowToTheSecondDestAndTheThirdBackToTheFirst) {
  run(nat_syn(web_to_rs1(40000)));
  run(nat_syn(web_to_rs2(40001)));
  run(nat_syn(web_to_rs1(40002)));
}

// Packets of several flows in one burst are each handled by their own
// connection, outputs in arrival order.
TEST_F(IpvsGolden, NatBurstOfTwoFlowsKeepsEachOnItsDest) {
  const Flow a = web_to_rs1(40000), b = web_to_rs2(40001);
  run(nat_syn(a));
  run(nat_syn(b));
  Bytes a1 = a.c2v(kAck), b1 = b.c2v(kAck), a2 = a.c2v(kAck | kPsh, data(100));
  run(Step{.in = {a1, b1, a2},
           .out1 = {a.nat_to_dest(kAck), b.nat_to_dest(kAck), a.nat_to_dest(kAck | kPsh, data(100))},
           .stats = in_pkt(a, a1) + in_pkt(b, b1) + in_pkt(a, a2) + established(a) +
                    established(b)});
}

// ---- 4. UDP NAT ------------------------------------------------------

TEST_F(IpvsGolden, UdpNatBothWays) {
  const Flow f = dns();
  Bytes q = f.c2v(0, data(33)), r = f.d2c(0, data(71));
  run(Step{.in = {q},
           .out1 = {f.nat_to_dest(0, data(33))},
           .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, q)});
  run(Step{.port = 1, .in = {r}, .out0 = {f.nat_to_client(0, data(71))}, .stats = out_pkt(f, r)});
  // A second query of the same flow: same connection, nothing created.
  run(Step{.in = {q}, .out1 = {f.nat_to_dest(0, data(33))}, .stats = in_pkt(f, q)});
}

// Checksum 0 means "none" in UDP: the rewrite must not invent one (only
// the IP header checksum changes).
TEST_F(IpvsGolden, UdpWithoutChecksumStaysWithoutBothWays) {
  const Flow f = dns();
  Bytes q = without_udp_cksum(f.c2v(0, data(20)));
  Bytes r = without_udp_cksum(f.d2c(0, data(20)));
  run(Step{.in = {q},
           .out1 = {without_udp_cksum(f.nat_to_dest(0, data(20)))},
           .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, q)});
  run(Step{.port = 1, .in = {r}, .out0 = {without_udp_cksum(f.nat_to_client(0, data(20)))},
           .stats = out_pkt(f, r)});
}

// A datagram whose rewritten checksum computes to 0 must carry 0xffff (0
// would say "no checksum"), in both directions.
TEST_F(IpvsGolden, UdpChecksumThatRewritesToZeroIsSentAsFfff) {
  const Flow f = dns();
  Bytes pin = zero_sum_payload([&](const Bytes& p) { return f.nat_to_dest(0, p); });
  Bytes pout = zero_sum_payload([&](const Bytes& p) { return f.nat_to_client(0, p); });
  Bytes want_in = f.nat_to_dest(0, pin), want_out = f.nat_to_client(0, pout);
  ASSERT_EQ(udp_cksum(want_in), 0xffff) << "test construction";
  ASSERT_EQ(udp_cksum(want_out), 0xffff) << "test construction";
  Bytes q = f.c2v(0, pin), r = f.d2c(0, pout);
  ASSERT_NE(udp_cksum(q), 0xffff);  // the input's checksum is something else
  run(Step{.in = {q},
           .out1 = {want_in},
           .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, q)});
  run(Step{.port = 1, .in = {r}, .out0 = {want_out}, .stats = out_pkt(f, r)});
}

// ---- 5. No connection, no service ------------------------------------

// Only a plain SYN may open a TCP connection: ACK, SYN-ACK, RST and FIN
// to a service with no connection are dropped by name.
TEST_F(IpvsGolden, TcpWithoutAPlainSynAndNoConnectionIsDropped) {
  const Flow f = web_to_rs1();
  run(Step{.in = {f.c2v(kAck), f.c2v(kSyn | kAck), f.c2v(kRst), f.c2v(kFin | kAck)},
           .counters = {{Counter::drop_no_conn, 4}}});
  EXPECT_EQ(ipvs_->conns->size(), 0u);
}

// The VIP is an owned address, so traffic to one of its ports that no
// service takes is local input, which has no TCP/UDP service.
TEST_F(IpvsGolden, TcpAndUdpToAnUnservedPortOfTheVipAreLocalInput) {
  Flow tcp81 = web_to_rs1();
  tcp81.vport = 81;
  Flow udp54 = dns();
  udp54.vport = 54;
  Flow udp80 = dns();  // UDP to the port of a TCP-only service
  udp80.vport = 80;
  run(Step{.in = {tcp81.c2v(kSyn), udp54.c2v(0, data(8)), udp80.c2v(0, data(8))},
           .counters = {{Counter::drop_no_service, 3}}});
}

// ---- 6. VIPs are owned addresses --------------------------------------

TEST_F(IpvsGolden, EchoToTheVipIsAnsweredFromTheVip) {
  run(Step{.in = {echo(kClientMac, kWanMac, kClient, kVip, false)},
           .out0 = {echo(kWanMac, kClientMac, kVip, kClient, true)},
           .counters = {{Counter::icmp_echo_replies, 1}}});
}

// ARP for a VIP is answered on the port whose subnet holds it, and only
// there.
TEST_F(IpvsGolden, ArpForTheVipIsAnsweredOnTheWanPortOnly) {
  run(Step{.in = {PacketBuilder().eth(kClientMac, kBroadcast)
                      .arp(1, kClientMac, kClient, kZeroMac, kVip).build()},
           .out0 = {PacketBuilder().eth(kWanMac, kClientMac)
                        .arp(2, kWanMac, kVip, kClientMac, kClient).build()},
           .counters = {{Counter::arp_replies_sent, 1}, {Counter::neigh_learned, 1}}});
  run(Step{.port = 1,
           .in = {PacketBuilder().eth(kRs1Mac, kBroadcast)
                      .arp(1, kRs1Mac, kRs1, kZeroMac, kVip).build()},
           .counters = {{Counter::drop_arp_not_ours, 1}}});
}

// ---- 7. DR -----------------------------------------------------------

// f's SYN creates its connection and reaches f's dest (DR, to rs1).
Step dr_syn(const Flow& f) {
  Bytes syn = f.c2v(kSyn);
  return Step{.in = {syn},
              .out1 = {reframed(syn, kLanMac, kRs1Mac)},
              .counters = {{Counter::conns_created, 1}},
              .stats = opened(f) + in_pkt(f, syn)};
}

// DR sends the client's packet unchanged to the dest's MAC: the dest
// owns the VIP and answers the client directly.
TEST_F(IpvsGolden, DrChangesOnlyTheEthernetHeader) {
  const Flow f = dr();
  Bytes ack = f.c2v(kAck, data(10));
  run(dr_syn(f));
  // Replies are never seen with DR: the client's ACK alone establishes.
  run(Step{.in = {ack}, .out1 = {reframed(ack, kLanMac, kRs1Mac)},
           .stats = in_pkt(f, ack) + established(f)});
}

// DR connections have no out key: a packet from the dest to the client
// through us is not a reply of anything, and not for an owned address.
TEST_F(IpvsGolden, DrHasNoOutKeySoTheDestsPacketIsNotOurs) {
  const Flow f = dr();
  run(dr_syn(f));
  run(Step{.port = 1, .in = {f.d2c(kSyn | kAck)}, .counters = {{Counter::drop_not_ours, 1}}});
}

// ---- 8. TUN ----------------------------------------------------------

TEST_F(IpvsGolden, TunEncapsulatesTheUnchangedPacketInIpip) {
  const Flow f = tun();
  Bytes syn = f.c2v(kSyn);
  Bytes want = tunnelled(syn, kRs2, kRs2Mac);
  // Spelled out, what tunnelled() built: proto 4, TTL 64, DF, 20 bytes more.
  ASSERT_EQ(want.size(), syn.size() + 20);
  EXPECT_EQ(want[kEthLen + 9], 4);
  EXPECT_EQ(want[kEthLen + 8], 64);
  EXPECT_EQ(want[kEthLen + 6] & 0x40, 0x40);
  run(Step{.in = {syn},
           .out1 = {want},
           .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, syn)});
}

// Without DF the outer header has none either.
TEST_F(IpvsGolden, TunOuterHeaderHasNoDfWhenTheInnerHasNone) {
  const Flow f = tun();
  Bytes syn = PacketBuilder().eth(kClientMac, kWanMac).ipv4(kClient, kVipTun).ip_id(7)
                  .tcp(f.cport, 80, kSyn).build();
  Bytes want = tunnelled(syn, kRs2, kRs2Mac);
  EXPECT_EQ(want[kEthLen + 6] & 0x40, 0);
  run(Step{.in = {syn},
           .out1 = {want},
           .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, syn)});
}

// The outer header carries the inner TOS (DSCP and ECN) and id, every byte
// of each different, so that a field summed into the outer checksum at
// the wrong place or in the wrong byte order shows as a wrong checksum.
TEST_F(IpvsGolden, TunOuterHeaderCarriesTheInnerTosAndIdUnderItsChecksum) {
  const Flow f = tun();
  Bytes syn = PacketBuilder().eth(kClientMac, kWanMac).ipv4(kClient, kVipTun).tos(0xb9).ip_id(0x1f2e)
                  .frag(0x4000).tcp(f.cport, 80, kSyn).build();
  Bytes want = tunnelled(syn, kRs2, kRs2Mac);
  EXPECT_EQ(want[kEthLen + 1], 0xb9);
  EXPECT_EQ(want[kEthLen + 4], 0x1f);
  EXPECT_EQ(want[kEthLen + 5], 0x2e);
  run(Step{.in = {syn},
           .out1 = {want},
           .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, syn)});
}

// The outer header costs 20 bytes: a 1480-byte packet just fits a 1500
// MTU; a 1490-byte one with DF is refused with "fragmentation needed",
// sent from the VIP to the client with next-hop MTU 1480 and the inner
// header plus 8 bytes quoted. The refused packet was still counted in the
// dest's inpkts and moved the state (as LVS: stats before transmit).
TEST_F(IpvsGolden, TunTooBigWithDfGetsFragmentationNeededWithTheTunnelMtu) {
  const Flow f = tun();
  Bytes syn = f.c2v(kSyn);
  run(Step{.in = {syn},
           .out1 = {tunnelled(syn, kRs2, kRs2Mac)},
           .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, syn)});

  Bytes fits = f.c2v(kAck, data(1480 - 40));
  ASSERT_EQ(fits.size(), kEthLen + 1480);
  Bytes want_fits = tunnelled(fits, kRs2, kRs2Mac);
  ASSERT_EQ(want_fits.size(), kEthLen + kMtu);
  run(Step{.in = {fits}, .out1 = {want_fits}, .stats = in_pkt(f, fits) + established(f)});

  Bytes big = f.c2v(kAck, data(1490 - 40));
  ASSERT_EQ(big.size(), kEthLen + 1490);
  Bytes quoted(big.begin() + kEthLen, big.begin() + kEthLen + 20 + 8);
  Bytes frag_needed = PacketBuilder().eth(kWanMac, kClientMac).ipv4(kVipTun, kClient)
                          .icmp(3, 4, 1480).payload(quoted).build();
  run(Step{.in = {big},
           .out0 = {frag_needed},
           .counters = {{Counter::drop_tun_too_big, 1}, {Counter::icmp_frag_needed_sent, 1}},
           .stats = in_pkt(f, big)});
}

// No fragmentation yet: too big without DF is dropped, with no ICMP.
TEST_F(IpvsGolden, TunTooBigWithoutDfIsDropped) {
  const Flow f = tun();
  Bytes syn = PacketBuilder().eth(kClientMac, kWanMac).ipv4(kClient, kVipTun)
                  .tcp(f.cport, 80, kSyn).payload_size(1490 - 40).build();
  run(Step{.in = {syn},
           .counters = {{Counter::conns_created, 1}, {Counter::drop_tun_too_big, 1}},
           .stats = opened(f) + in_pkt(f, syn)});
}

// With no mbuf left for the ICMP error the packet is still refused, and
// the missing error is counted instead of sent.
TEST_F(IpvsGolden, TunTooBigWithAnEmptyMbufPoolIsRefusedWithoutIcmp) {
  const Flow f = tun();
  Bytes syn = f.c2v(kSyn);
  run(Step{.in = {syn},
           .out1 = {tunnelled(syn, kRs2, kRs2Mac)},
           .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, syn)});
  Bytes big = f.c2v(kAck, data(1490 - 40));
  rte_mbuf* m = mbuf_from(big);
  std::vector<rte_mbuf*> hog;  // everything else the pool has
  while (rte_mbuf* x = rte_pktmbuf_alloc(test_pool())) hog.push_back(x);
  LcoreCounters before = *ctr_;
  std::vector<DestStats> dest_before = dest_rows_;
  std::vector<ServiceStats> svc_before = svc_rows_;
  process_burst(*ctx_, 0, &m, 1);
  for (rte_mbuf* x : hog) rte_pktmbuf_free(x);
  expect_frames(0, {});
  expect_frames(1, {});
  expect_counters(before, {{Counter::rx_packets, 1},
                           {Counter::rx_bytes, big.size()},
                           {Counter::drop_tun_too_big, 1},
                           {Counter::drop_no_mbuf, 1}});
  expect_stats(dest_before, svc_before, in_pkt(f, big) + established(f));
}

// ---- 9. Expiry -------------------------------------------------------

// TIME_WAIT lasts 120 s: not a tick less, and the connection is gone
// after it (the client's next ACK finds nothing), the dest's gauges at 0.
TEST_F(IpvsGolden, TimeWaitConnectionExpiresAfterItsTimeout) {
  const Flow f = web_to_rs1();
  run(nat_to_time_wait(f));
  run(nothing_expires_at(120'000 - 10));
  EXPECT_EQ(ipvs_->conns->size(), 1u);
  run(expires_at(120'000, f));
  EXPECT_EQ(ipvs_->conns->size(), 0u);
  run(no_conn(f, kAck));
  EXPECT_EQ(dest_stat(kWeb1, DestStat::active), 0u);
  EXPECT_EQ(dest_stat(kWeb1, DestStat::inactive), 0u);
  EXPECT_EQ(svc_rows_[kSvcWeb].get(ServiceStat::live), 0u);
}

// A RST moves an established connection to CLOSE, whose 10 s timeout is
// shorter than what was queued: the timer must be moved earlier.
TEST_F(IpvsGolden, RstClosesAndTheConnectionExpiresAfterTheCloseTimeout) {
  const Flow f = web_to_rs1();
  run(nat_handshake(f));
  run(nat_in(f, kRst, deactivated(f)));
  run(nothing_expires_at(10'000 - 10));
  run(expires_at(10'000, f));
  run(no_conn(f, kAck));
  EXPECT_EQ(dest_stat(kWeb1, DestStat::active), 0u);
  EXPECT_EQ(dest_stat(kWeb1, DestStat::inactive), 0u);
}

// ESTABLISHED lasts 900 s, far beyond the wheel's 41 s horizon: the timer
// goes round the wheel many times and must fire on time, not at a lap.
// Expiring an established connection takes it off the active gauge.
TEST_F(IpvsGolden, EstablishedConnectionExpiresAfterFifteenMinutes) {
  const Flow f = web_to_rs1();
  run(nat_handshake(f));
  for (uint64_t ms = 10'000; ms < 900'000; ms += 10'000) {
    SCOPED_TRACE("at " + std::to_string(ms) + " ms");
    run(nothing_expires_at(ms));
    if (HasFailure()) return;
  }
  run(nothing_expires_at(900'000 - 10));
  run(Step{.at_ms = 900'000, .expire = true, .counters = {{Counter::conns_expired, 1}},
           .stats = {{{f.dest, DestStat::active, -1}}, {{f.svc, ServiceStat::live, -1}}}});
  run(no_conn(f, kAck));
}

// Lazy re-arm: a packet only stores the new expiry; the wheel must move
// the timer when the original deadline comes instead of expiring it. UDP
// lasts 300 s: a datagram at 200 s pushes the end to 500 s. The worker
// loop's expiry is run every second in between.
TEST_F(IpvsGolden, RefreshedConnectionOutlivesItsFirstDeadline) {
  const Flow f = dns();
  Bytes q = f.c2v(0, data(12));
  run(Step{.in = {q},
           .out1 = {f.nat_to_dest(0, data(12))},
           .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, q)});
  run(Step{.at_ms = 200'000, .in = {q}, .out1 = {f.nat_to_dest(0, data(12))},
           .stats = in_pkt(f, q)});
  for (uint64_t ms = 1'000; ms < 500'000; ms += 1'000) {
    SCOPED_TRACE("at " + std::to_string(ms) + " ms");
    run(nothing_expires_at(ms));
    if (HasFailure()) return;
  }
  run(nothing_expires_at(500'000 - 10));
  EXPECT_EQ(ipvs_->conns->size(), 1u);
  run(expires_at(500'000, f));
  EXPECT_EQ(ipvs_->conns->size(), 0u);
}

// The same with the clock jumping straight past the first deadline (a
// loop that stalled): the refreshed connection must still survive it.
TEST_F(IpvsGolden, RefreshedConnectionSurvivesAJumpPastItsFirstDeadline) {
  const Flow f = dns();
  Bytes q = f.c2v(0, data(12));
  run(Step{.in = {q},
           .out1 = {f.nat_to_dest(0, data(12))},
           .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, q)});
  run(Step{.at_ms = 200'000, .in = {q}, .out1 = {f.nat_to_dest(0, data(12))},
           .stats = in_pkt(f, q)});
  run(nothing_expires_at(300'000));
  run(nothing_expires_at(499'990));
  EXPECT_EQ(ipvs_->conns->size(), 1u);
  run(expires_at(500'000, f));
}

// ---- 10. Connection reuse --------------------------------------------

// A new SYN of fresh on the client port of an old connection: the old one
// is freed (gone: its stats' change) and the SYN forwarded to fresh's
// dest, counted as why.
Step syn_supersedes(const Flow& fresh, Counter why, const Stats& gone) {
  Bytes syn = fresh.c2v(kSyn);
  return Step{.in = {syn},
              .out1 = {fresh.nat_to_dest(kSyn)},
              .counters = {{why, 1}, {Counter::conns_created, 1}},
              .stats = gone + opened(fresh) + in_pkt(fresh, syn)};
}

// A new plain SYN from the same client port while the old connection is
// in TIME_WAIT is a new connection (conn_reuse_mode 1): the old one is
// freed and the SYN scheduled afresh, here to rr's next dest.
TEST_F(IpvsGolden, SynOnATimeWaitConnectionReschedules) {
  const Flow old = web_to_rs1(40000);
  run(nat_to_time_wait(old));
  const Flow fresh = web_to_rs2(40000);
  run(syn_supersedes(fresh, Counter::conns_reused, freed(old)));
  EXPECT_EQ(ipvs_->conns->size(), 1u);
  // The fresh connection is the one the dest's reply now matches; the old
  // dest's reply matches nothing.
  run(nat_syn_ack(fresh));
  run(Step{.port = 1, .in = {old.d2c(kAck)}, .counters = {{Counter::drop_not_ours, 1}}});
}

// A SYN on an established connection is not a new connection.
TEST_F(IpvsGolden, SynOnAnEstablishedConnectionIsForwardedOnIt) {
  const Flow f = web_to_rs1();
  run(nat_handshake(f));
  run(nat_in(f, kSyn));
  EXPECT_EQ(ipvs_->conns->size(), 1u);
}

// A new SYN on a connection whose dest health checks have taken out: the
// client reused its port (clients behind a NAT do within SYN_RECV's 60 s),
// so the old connection is freed and the SYN goes to a dest that answers.
// A half-open and an established connection alike; other packets of an
// established one still drain to its dest.
TEST_F(IpvsGolden, SynOnAConnectionToAnInhibitedDestReschedules) {
  const Flow half = web_to_rs1(40000), open = web_to_rs1(40002);
  run(nat_syn(half));
  run(nat_syn(web_to_rs2(40001)));
  run(nat_handshake(open));
  SnapshotSpec spec = ipvs_spec();
  spec.services[kSvcWeb].dests[0].available = false;  // rs1's checks failed
  switch_to(spec);
  if (HasFatalFailure()) return;
  run(nat_in(open, kAck | kPsh));
  for (const Flow& old : {half, open}) {
    SCOPED_TRACE(old.cport);
    const Flow fresh = web_to_rs2(old.cport);
    Stats gone = old.cport == open.cport ? freed(old) + deactivated(old) : freed(old);
    run(syn_supersedes(fresh, Counter::conns_rescheduled, gone));
    run(nat_syn_ack(fresh));
    // rs1's late answer to the old connection matches nothing.
    run(Step{.port = 1, .in = {old.d2c(kSyn | kAck)}, .counters = {{Counter::drop_not_ours, 1}}});
  }
  EXPECT_EQ(ipvs_->conns->size(), 3u);
}

// The same for a dest removed from the service: its connections drain, but
// a new SYN on one is scheduled to the dests that remain.
TEST_F(IpvsGolden, SynOnAConnectionToARemovedDestReschedules) {
  const Flow old = web_to_rs1(40000);
  run(nat_syn(old));
  SnapshotSpec spec = ipvs_spec();
  spec.services[kSvcWeb].dests.erase(spec.services[kSvcWeb].dests.begin());
  switch_to(spec);
  if (HasFatalFailure()) return;
  run(syn_supersedes(web_to_rs2(40000), Counter::conns_rescheduled, freed(old)));
}

// expire_nodest_conn (LVS): once its dest is removed, a connection ends at
// its next packet (dropped, counted) instead of draining, while one to a
// dest the service keeps flows on.
TEST_F(IpvsGolden, ExpireNodestEndsTheRemovedDestsConnectionsOnly) {
  const Flow gone = web_to_rs1(40000), kept = web_to_rs2(40001);
  run(nat_syn(gone));
  run(nat_handshake(kept));
  SnapshotSpec spec = ipvs_spec();
  spec.services[kSvcWeb].expire_nodest = true;
  spec.services[kSvcWeb].dests.erase(spec.services[kSvcWeb].dests.begin());  // rs1
  switch_to(spec);
  if (HasFatalFailure()) return;
  run(Step{.in = {gone.c2v(kAck)},
           .counters = {{Counter::conns_expired_nodest, 1}, {Counter::drop_no_dest, 1}},
           .stats = freed(gone)});
  run(nat_in(kept, kAck | kPsh));
  EXPECT_EQ(ipvs_->conns->size(), 1u);
}

// A persistent service: the client's template leads to the down dest, so
// it is dropped and the SYN gets a dest and a template anew.
TEST_F(IpvsGolden, SynOnAPersistentConnectionToAnInhibitedDestGetsANewTemplate) {
  const Flow old{IPPROTO_TCP, kVipSticky, 80, kRs1, kRs1Mac, 8080, 40000, kSvcSticky, kSticky1};
  const Flow fresh{IPPROTO_TCP, kVipSticky, 80, kRs2, kRs2Mac, 8080, 40000, kSvcSticky, kSticky2};
  Bytes first = old.c2v(kSyn);
  run(Step{.in = {first}, .out1 = {old.nat_to_dest(kSyn)}, .counters = {{Counter::conns_created, 1}},
           .stats = opened(old) + in_pkt(old, first) + Stats{{{kSticky1, DestStat::persistent, 1}}, {}}});
  SnapshotSpec spec = ipvs_spec();
  spec.services[kSvcSticky].dests[0].available = false;
  switch_to(spec);
  if (HasFatalFailure()) return;
  Step moved = syn_supersedes(fresh, Counter::conns_rescheduled, freed(old));
  moved.stats = moved.stats + Stats{{{kSticky2, DestStat::persistent, 1}}, {}};
  run(moved);
  // The client's next connection follows the new template.
  const Flow next{IPPROTO_TCP, kVipSticky, 80, kRs2, kRs2Mac, 8080, 40001, kSvcSticky, kSticky2};
  run(nat_syn(next));
}

// With nowhere else to go the SYN stays on its connection, as before:
// every dest of the service inhibited (checks failing everywhere at once
// are more likely about the checks), or the service removed (its
// connections drain).
TEST_F(IpvsGolden, SynWithNowhereElseToGoStaysOnItsConnection) {
  const Flow a = web_to_rs1(40000), f = dr();
  run(nat_syn(a));
  Bytes ack = f.c2v(kAck, data(10)), syn = f.c2v(kSyn);
  run(dr_syn(f));
  run(Step{.in = {ack}, .out1 = {reframed(ack, kLanMac, kRs1Mac)}, .stats = in_pkt(f, ack) + established(f)});
  SnapshotSpec spec = ipvs_spec();
  for (DestSpec& d : spec.services[kSvcWeb].dests) d.available = false;
  std::erase_if(spec.services, [](const ServiceSpec& s) { return s.id == kSvcDr; });
  switch_to(spec);
  if (HasFatalFailure()) return;
  run(nat_in(a, kSyn));
  run(Step{.in = {syn}, .out1 = {reframed(syn, kLanMac, kRs1Mac)}, .stats = in_pkt(f, syn)});
  EXPECT_EQ(ipvs_->conns->size(), 2u);
}

// A quiesced dest (weight 0) still answers: a retransmitted SYN of a
// handshake it began stays on its connection, as does a SYN on an
// available dest's (the client's retransmission, not a new connection).
TEST_F(IpvsGolden, RetransmittedSynStaysWithAQuiescedOrAvailableDest) {
  const Flow a = web_to_rs1(40000), b = web_to_rs2(40001);
  run(nat_syn(a));
  run(nat_syn(b));
  switch_to(ipvs_spec(/*web_weight1=*/0));
  if (HasFatalFailure()) return;
  run(nat_in(a, kSyn));
  run(nat_in(b, kSyn));
  EXPECT_EQ(ipvs_->conns->size(), 2u);
}

// The VIP's DNS service with a second dest, on rs1 (dns() goes to rs2),
// weighted dns1_weight; rs2 available or not.
constexpr uint32_t kDns1 = 17;
SnapshotSpec two_dns_dests(uint32_t dns1_weight, bool rs2_available, uint32_t rs2_weight = 1) {
  SnapshotSpec spec = ipvs_spec();
  std::vector<DestSpec>& dests = spec.services[kSvcDns].dests;
  dests.push_back(dest(kDns1, kRs1, 5353, FwdMode::kNat, dns1_weight));
  dests[0].available = rs2_available;
  dests[0].weight = rs2_weight;
  return spec;
}
Flow dns_to_rs1(uint16_t cport = 5000) {
  return Flow{IPPROTO_UDP, kVip, 53, kRs1, kRs1Mac, 5353, cport, kSvcDns, kDns1};
}

// UDP has no packet that opens a connection: a client with a fixed source
// port keeps one flow for as long as it sends. When health checks take its
// dest out, its next datagram moves the flow to a dest that is open.
TEST_F(IpvsGolden, UdpFlowLeavesAnInhibitedDestAtItsNextDatagram) {
  switch_to(two_dns_dests(1, true));
  if (HasFatalFailure()) return;
  const Flow old = dns(), moved = dns_to_rs1();
  Bytes q = old.c2v(0, data(8));
  run(Step{.in = {q}, .out1 = {old.nat_to_dest(0, data(8))}, .counters = {{Counter::conns_created, 1}},
           .stats = opened(old) + in_pkt(old, q)});
  switch_to(two_dns_dests(1, false));
  if (HasFatalFailure()) return;
  run(Step{.in = {q},
           .out1 = {moved.nat_to_dest(0, data(8))},
           .counters = {{Counter::conns_rescheduled, 1}, {Counter::conns_created, 1}},
           .stats = freed(old) + opened(moved) + in_pkt(moved, q)});
  run(Step{.in = {q}, .out1 = {moved.nat_to_dest(0, data(8))}, .stats = in_pkt(moved, q)});
  EXPECT_EQ(ipvs_->conns->size(), 1u);
}

// With no other dest open (the other quiesced) the flow stays on its
// inhibited dest, as it does on a quiesced one: only health checks move a
// flow, and only to somewhere it can go.
TEST_F(IpvsGolden, UdpFlowStaysWithoutAnOpenDestOrOnAQuiescedOne) {
  switch_to(two_dns_dests(0, true));
  if (HasFatalFailure()) return;
  const Flow f = dns();
  Bytes q = f.c2v(0, data(8));
  run(Step{.in = {q}, .out1 = {f.nat_to_dest(0, data(8))}, .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, q)});
  switch_to(two_dns_dests(0, false));
  if (HasFatalFailure()) return;
  run(Step{.in = {q}, .out1 = {f.nat_to_dest(0, data(8))}, .stats = in_pkt(f, q)});
  switch_to(two_dns_dests(1, true, /*rs2_weight=*/0));
  if (HasFatalFailure()) return;
  run(Step{.in = {q}, .out1 = {f.nat_to_dest(0, data(8))}, .stats = in_pkt(f, q)});
}

// ---- 11. Connection pool exhaustion ----------------------------------

// With room for 4 connections the 5th new flow is refused, and the
// established ones carry on both ways.
TEST_F(IpvsGolden, FullConnectionPoolRefusesNewFlowsOnly) {
  make_ipvs(IpvsConfig{.max_conns = 4, .max_services = kMaxServices, .max_dests = kMaxDests});
  const Flow a = web_to_rs1(40000);
  run(nat_handshake(a));
  run(nat_syn(web_to_rs2(40001)));
  run(nat_syn(web_to_rs1(40002)));
  run(nat_syn(web_to_rs2(40003)));
  EXPECT_EQ(ipvs_->conns->size(), 4u);
  run(Step{.in = {web_to_rs1(40004).c2v(kSyn)},
           .counters = {{Counter::drop_conn_pool_full, 1}}});
  run(nat_in(a, kAck | kPsh));
  run(nat_out(a, kAck | kPsh));
  // A UDP flow is refused the same way.
  run(Step{.in = {dns().c2v(0, data(8))}, .counters = {{Counter::drop_conn_pool_full, 1}}});
}

// Two services NAT one client port to one dest port: the dest's replies
// would match both connections, so the second is refused and counted, and
// the first keeps its replies (rte_hash used to let the second take over
// the reply key, and the first's expiry then removed it from both).
TEST_F(IpvsGolden, SecondConnectionWithTheSameReplyTupleIsRefused) {
  const Flow a = web_to_rs1(40000);
  run(nat_handshake(a));
  const Flow b{IPPROTO_TCP, kVipSticky, 80, kRs1, kRs1Mac, 8080, a.cport, kSvcSticky, kSticky1};
  // The template made for b stays, as after any refused connection.
  run(Step{.in = {b.c2v(kSyn)},
           .counters = {{Counter::drop_conn_clash, 1}},
           .stats = {{{kSticky1, DestStat::persistent, 1}}, {}}});
  run(nat_out(a, kAck | kPsh));
  run(nat_in(a, kAck | kPsh));
  EXPECT_EQ(ipvs_->conns->size(), 2u);
}

// The same two flows, but the first has finished (TIME_WAIT): the client
// reused its port towards the other VIP, as clients do, and the dest takes
// a SYN on a closed 4-tuple. The finished connection gives up its reply key
// (counted as reused, as a SYN on a TIME_WAIT connection is) and the new
// one is forwarded and gets the dest's replies, under its own VIP.
TEST_F(IpvsGolden, NewConnectionTakesTheReplyKeyOfAFinishedOne) {
  const Flow a = web_to_rs1(40000);
  run(nat_to_time_wait(a));
  const Flow b{IPPROTO_TCP, kVipSticky, 80, kRs1, kRs1Mac, 8080, a.cport, kSvcSticky, kSticky1};
  Bytes syn = b.c2v(kSyn);
  run(Step{.in = {syn},
           .out1 = {b.nat_to_dest(kSyn)},
           .counters = {{Counter::conns_reused, 1}, {Counter::conns_created, 1}},
           .stats = freed(a) + opened(b) + in_pkt(b, syn) + Stats{{{kSticky1, DestStat::persistent, 1}}, {}}});
  run(nat_syn_ack(b));
  EXPECT_EQ(ipvs_->conns->size(), 2u);  // b and its template
}

// ---- 12. Quiesced dest -----------------------------------------------

// Weight 0 in a new snapshot: no new flow goes to the dest, but its
// existing connection is still forwarded both ways.
TEST_F(IpvsGolden, QuiescedDestKeepsItsConnectionsButGetsNoNewOnes) {
  const Flow a = web_to_rs1(40000);
  run(nat_syn(a));
  switch_to(ipvs_spec(/*web_weight1=*/0));
  if (HasFatalFailure()) return;
  run(nat_syn_ack(a));
  run(nat_in(a, kAck, established(a)));
  for (uint16_t cport = 40001; cport <= 40004; cport++) run(nat_syn(web_to_rs2(cport)));
  run(nat_in(a, kAck | kPsh));
  run(nat_out(a, kAck | kPsh));
}

// With every dest quiesced or inhibited there is nobody to take a new
// flow: it is dropped by name, and nothing is created.
TEST_F(IpvsGolden, NoUsableDestDropsNewFlowsWithNoDest) {
  SnapshotSpec spec = ipvs_spec(/*web_weight1=*/0);
  spec.services[kSvcWeb].dests[1].available = false;  // health check down
  switch_to(spec);
  if (HasFatalFailure()) return;
  run(Step{.in = {web_to_rs1().c2v(kSyn)}, .counters = {{Counter::drop_no_dest, 1}}});
  EXPECT_EQ(ipvs_->conns->size(), 0u);
  // The VIP's UDP service has its own dest and is unaffected.
  const Flow u = dns();
  Bytes q = u.c2v(0, data(8));
  run(Step{.in = {q},
           .out1 = {u.nat_to_dest(0, data(8))},
           .counters = {{Counter::conns_created, 1}},
           .stats = opened(u) + in_pkt(u, q)});
}

// ---- 13. ICMP errors -------------------------------------------------

// An ICMP error carries the IP header and the first 8 bytes of the packet
// it is about (RFC 792): the ports. What the connection table has to
// recognise is that quote, and what the other side must recognise is the
// quote rewritten to its own view of the flow.

const uint32_t kLanRouter = ip("10.0.1.99");  // a router on the dests' side
const Mac kLanRouterMac = mac("02:ee:00:00:01:99");

// What an ICMP error about the IP packet in `about` quotes: its header and
// l4 bytes after it.
Bytes quote(const Bytes& about, size_t l4 = 8) {
  size_t ihl = size_t(about[kEthLen] & 0x0f) * 4;
  return Bytes(about.begin() + kEthLen, about.begin() + long(kEthLen + ihl + l4));
}

// An ICMP error quoting q, with TTL 63 and an id of its own so that the
// output shows both kept.
Bytes icmp_error(const Mac& smac, const Mac& dmac, uint32_t src, uint32_t dst, uint8_t type,
                 uint8_t code, uint32_t rest, const Bytes& q) {
  return PacketBuilder().eth(smac, dmac).ipv4(src, dst).ttl(63).ip_id(0x5151)
      .icmp(type, code, rest).payload(q).build();
}

// "Fragmentation needed" (type 3 code 4) with next-hop MTU 1400.
Bytes frag_needed(const Mac& smac, const Mac& dmac, uint32_t src, uint32_t dst, const Bytes& q) {
  return icmp_error(smac, dmac, src, dst, 3, 4, 1400, q);
}

const Deltas kTranslated = {{Counter::icmp_errors_translated, 1}};

// Path MTU discovery from the dests' side: the dest, or a router before
// it, says our forwarded SYN was too big. The client only knows its own
// packet (client -> VIP:80), so the quote is rewritten to that, with a
// valid quoted header checksum, and the error comes from the VIP, with a
// valid ICMP checksum (the builder computes both from scratch). The
// connection's stats do not count errors.
TEST_F(IpvsGolden, FragNeededFromTheDestSideTellsTheClientAboutItsOwnPacket) {
  const Flow f = web_to_rs1();
  run(nat_syn(f));
  Bytes about = quote(f.nat_to_dest(kSyn));
  Bytes want = frag_needed(kWanMac, kClientMac, kVip, kClient, quote(f.c2v(kSyn)));
  run(Step{.port = 1, .in = {frag_needed(kRs1Mac, kLanMac, kRs1, kClient, about)},
           .out0 = {want}, .counters = kTranslated});
  // From a router the client has never heard of: the same error, from the VIP.
  run(Step{.port = 1, .in = {frag_needed(kLanRouterMac, kLanMac, kLanRouter, kClient, about)},
           .out0 = {want}, .counters = kTranslated});
  // The connection carries on.
  run(nat_syn_ack(f));
}

// Routers may quote more than 8 bytes (RFC 1812: as much as fits in 576).
// Only the addresses and ports are the client's; the rest stays as the
// dest got it, the quoted TCP checksum included.
TEST_F(IpvsGolden, FragNeededWithALongQuoteKeepsTheRestOfItAsItWas) {
  const Flow f = web_to_rs1();
  run(nat_syn(f));
  Bytes about = quote(f.nat_to_dest(kSyn), 20), mine = quote(f.c2v(kSyn), 20);
  std::copy(about.begin() + 20 + 16, about.begin() + 20 + 18, mine.begin() + 20 + 16);
  run(Step{.port = 1, .in = {frag_needed(kRs1Mac, kLanMac, kRs1, kClient, about)},
           .out0 = {frag_needed(kWanMac, kClientMac, kVip, kClient, mine)},
           .counters = kTranslated});
}

// The other way: the client's side says the reply (VIP:80 -> client) was
// too big. The dest only knows its own reply (dest:8080 -> client), so
// the quote is rewritten to that and the error goes to the dest. Only the
// outer destination changes: an error from a router keeps the router as
// its source.
TEST_F(IpvsGolden, FragNeededFromTheClientSideTellsTheDestAboutItsOwnReply) {
  const Flow f = web_to_rs1();
  run(nat_syn(f));
  run(nat_syn_ack(f));
  Bytes about = quote(f.nat_to_client(kSyn | kAck)), mine = quote(f.d2c(kSyn | kAck));
  run(Step{.in = {frag_needed(kClientMac, kWanMac, kClient, kVip, about)},
           .out1 = {frag_needed(kLanMac, kRs1Mac, kClient, kRs1, mine)},
           .counters = kTranslated});
  run(Step{.in = {frag_needed(kRouterMac, kWanMac, kRouter, kVip, about)},
           .out1 = {frag_needed(kLanMac, kRs1Mac, kRouter, kRs1, mine)},
           .counters = kTranslated});
}

// A quoted header with options: the quoted ports are found after them,
// and the quoted checksum covers them.
TEST_F(IpvsGolden, FragNeededQuotingAHeaderWithOptionsIsTranslatedToo) {
  const Flow f = web_to_rs1();
  run(nat_syn(f));
  auto sent = [&](uint32_t daddr, uint16_t dport) {  // the SYN, as if it had options
    return PacketBuilder().eth(kClientMac, kWanMac).ipv4(kClient, daddr).ttl(61).ip_id(0x1234)
        .frag(0x4000).ip_options({1, 1, 1, 0}).tcp(f.cport, dport, kSyn, 1000).build();
  };
  Bytes about = quote(sent(kRs1, 8080));
  ASSERT_EQ(about.size(), 24u + 8u);
  run(Step{.port = 1, .in = {frag_needed(kRs1Mac, kLanMac, kRs1, kClient, about)},
           .out0 = {frag_needed(kWanMac, kClientMac, kVip, kClient, quote(sent(kVip, 80)))},
           .counters = kTranslated});
}

// DR: the dest answered the client itself, from the VIP (IP-wise what
// nat_to_client builds). An error about that reply reaches us because we
// own the VIP, and goes to the dest the way the client's packets do:
// unchanged, to its MAC.
TEST_F(IpvsGolden, FragNeededAboutADrReplyIsForwardedUnchangedToTheDest) {
  const Flow f = dr();
  run(dr_syn(f));
  Bytes err =
      frag_needed(kClientMac, kWanMac, kClient, kVipDr, quote(f.nat_to_client(kSyn | kAck)));
  run(Step{.in = {err}, .out1 = {reframed(err, kLanMac, kRs1Mac)}, .counters = kTranslated});
}

// TUN: the same error is tunnelled to the dest, unchanged inside.
TEST_F(IpvsGolden, FragNeededAboutATunReplyIsTunnelledToTheDest) {
  const Flow f = tun();
  Bytes syn = f.c2v(kSyn);
  run(Step{.in = {syn},
           .out1 = {tunnelled(syn, kRs2, kRs2Mac)},
           .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, syn)});
  Bytes err =
      frag_needed(kClientMac, kWanMac, kClient, kVipTun, quote(f.nat_to_client(kSyn | kAck)));
  run(Step{.in = {err}, .out1 = {tunnelled(err, kRs2, kRs2Mac)}, .counters = kTranslated});
}

// The usual error about UDP: port unreachable from the dest. The quote's
// first 8 bytes hold the UDP checksum, which is left as the dest got it
// (nobody verifies a quoted checksum, and the rest of the datagram is not
// there to recompute it); addresses and ports are the client's.
TEST_F(IpvsGolden, PortUnreachableAboutAUdpFlowIsTranslatedWithItsQuotedChecksumKept) {
  const Flow f = dns();
  Bytes q = f.c2v(0, data(12));
  run(Step{.in = {q},
           .out1 = {f.nat_to_dest(0, data(12))},
           .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, q)});
  Bytes about = quote(f.nat_to_dest(0, data(12))), mine = quote(q);
  std::copy(about.begin() + 20 + 6, about.begin() + 20 + 8, mine.begin() + 20 + 6);
  run(Step{.port = 1, .in = {icmp_error(kRs2Mac, kLanMac, kRs2, kClient, 3, 3, 0, about)},
           .out0 = {icmp_error(kWanMac, kClientMac, kVip, kClient, 3, 3, 0, mine)},
           .counters = kTranslated});
}

// Time exceeded (type 11) is an error like any other: translated both ways.
TEST_F(IpvsGolden, TimeExceededIsTranslatedLikeFragNeeded) {
  const Flow f = web_to_rs1();
  run(nat_syn(f));
  run(nat_syn_ack(f));
  run(Step{.port = 1,
           .in = {icmp_error(kLanRouterMac, kLanMac, kLanRouter, kClient, 11, 0, 0,
                             quote(f.nat_to_dest(kSyn)))},
           .out0 = {icmp_error(kWanMac, kClientMac, kVip, kClient, 11, 0, 0, quote(f.c2v(kSyn)))},
           .counters = kTranslated});
  run(Step{.in = {icmp_error(kRouterMac, kWanMac, kRouter, kVip, 11, 0, 0,
                             quote(f.nat_to_client(kSyn | kAck)))},
           .out1 = {icmp_error(kLanMac, kRs1Mac, kRouter, kRs1, 11, 0, 0,
                               quote(f.d2c(kSyn | kAck)))},
           .counters = kTranslated});
}

// An error about no connection of ours is left alone: to the VIP it is
// local input, where only echo requests are answered; to the client it
// is not for us.
TEST_F(IpvsGolden, IcmpErrorAboutAnUnknownFlowIsNotTranslated) {
  const Flow f = web_to_rs1(), unknown = web_to_rs1(40999);
  run(nat_syn(f));
  run(nat_syn_ack(f));
  run(Step{.in = {frag_needed(kClientMac, kWanMac, kClient, kVip,
                              quote(unknown.nat_to_client(kSyn | kAck)))},
           .counters = {{Counter::drop_icmp_type, 1}}});
  run(Step{.port = 1,
           .in = {frag_needed(kRs1Mac, kLanMac, kRs1, kClient, quote(unknown.nat_to_dest(kSyn)))},
           .counters = {{Counter::drop_not_ours, 1}}});
}

// A quote shorter than the header and 8 bytes is malformed, even when the
// ports it holds are those of a connection: left alone the same way.
TEST_F(IpvsGolden, IcmpErrorWithATruncatedQuoteIsNotTranslated) {
  const Flow f = web_to_rs1();
  run(nat_syn(f));
  run(nat_syn_ack(f));
  run(Step{.in = {frag_needed(kClientMac, kWanMac, kClient, kVip,
                              quote(f.nat_to_client(kSyn | kAck), 4))},
           .counters = {{Counter::drop_icmp_type, 1}}});
  run(Step{.port = 1,
           .in = {frag_needed(kRs1Mac, kLanMac, kRs1, kClient, quote(f.nat_to_dest(kSyn), 4))},
           .counters = {{Counter::drop_not_ours, 1}}});
}

// A corrupted ICMP error must not be translated: translation recomputes
// the checksum, so a bit flipped in transit (here MTU 1400 -> 5496) would
// otherwise leave looking valid. Errors are verified like echo requests.
TEST_F(IpvsGolden, IcmpErrorWithABadChecksumIsDroppedNotTranslated) {
  const Flow f = web_to_rs1();
  run(nat_syn(f));
  Bytes err = frag_needed(kRs1Mac, kLanMac, kRs1, kClient, quote(f.nat_to_dest(kSyn)));
  err[kEthLen + 20 + 6] ^= 0x10;  // next-hop MTU 0x0578 -> 0x1578, checksum left stale
  run(Step{.port = 1, .in = {err}, .counters = {{Counter::drop_l4_checksum, 1}}});
}

// ---- Expiry work is bounded ------------------------------------------

// ipvs_expire() frees at most 256 connections per call, so a mass expiry
// is spread over loop iterations: 300 due at once take two calls.
TEST_F(IpvsGolden, MassExpiryIsSpreadOverCalls) {
  constexpr uint16_t kFlows = 300, kPerBurst = 30;
  for (uint16_t first = 0; first < kFlows; first += kPerBurst) {
    Step st{.counters = {{Counter::conns_created, kPerBurst}}};
    for (uint16_t i = first; i < first + kPerBurst; i++) {
      const Flow f = dns(uint16_t(10000 + i));
      Bytes q = f.c2v(0, data(4));
      st.in.push_back(q);
      st.out1.push_back(f.nat_to_dest(0, data(4)));
      st.stats = st.stats + opened(f) + in_pkt(f, q);
    }
    run(st);
  }
  ASSERT_EQ(ipvs_->conns->size(), kFlows);
  const Flow f = dns();
  auto freed_n = [&](int64_t n) {
    return Stats{{{f.dest, DestStat::inactive, -n}}, {{f.svc, ServiceStat::live, -n}}};
  };
  run(Step{.at_ms = 300'000, .expire = true, .counters = {{Counter::conns_expired, 256}},
           .stats = freed_n(256)});
  run(Step{.at_ms = 300'000, .expire = true, .counters = {{Counter::conns_expired, 44}},
           .stats = freed_n(44)});
  EXPECT_EQ(ipvs_->conns->size(), 0u);
}

// ---- Everything at once ----------------------------------------------

// One burst from the wan port: a NAT SYN, an echo to the VIP, ARP for the
// VIP, a DR SYN and a TUN SYN, each to its own output, in order.
TEST_F(IpvsGolden, MixedBurstIsHandledInOrder) {
  const Flow n = web_to_rs1(), d = dr(40100), t = tun(40200);
  Bytes nsyn = n.c2v(kSyn), dsyn = d.c2v(kSyn), tsyn = t.c2v(kSyn);
  run(Step{.in = {nsyn, echo(kClientMac, kWanMac, kClient, kVip, false),
                  PacketBuilder().eth(kClientMac, kBroadcast)
                      .arp(1, kClientMac, kClient, kZeroMac, kVipTun).build(),
                  dsyn, tsyn},
           .out0 = {echo(kWanMac, kClientMac, kVip, kClient, true),
                    PacketBuilder().eth(kWanMac, kClientMac)
                        .arp(2, kWanMac, kVipTun, kClientMac, kClient).build()},
           .out1 = {n.nat_to_dest(kSyn), reframed(dsyn, kLanMac, kRs1Mac),
                    tunnelled(tsyn, kRs2, kRs2Mac)},
           .counters = {{Counter::conns_created, 3},
                        {Counter::icmp_echo_replies, 1},
                        {Counter::arp_replies_sent, 1},
                        {Counter::neigh_learned, 1}},
           .stats = opened(n) + in_pkt(n, nsyn) + opened(d) + in_pkt(d, dsyn) + opened(t) +
                    in_pkt(t, tsyn)});
}

}  // namespace
}  // namespace fulcrum::test
