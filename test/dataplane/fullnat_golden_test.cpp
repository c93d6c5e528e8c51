// SPDX-License-Identifier: Apache-2.0
//
// Golden tests of FULLNAT: both addresses rewritten, the local-address
// pool, the client address told to the dest (TOA, PROXY v2) and the
// sequence-number translation PROXY v2 needs, ICMP errors both ways, and
// reply steering between workers. The fixture, topology and services are in
// ipvs_fixture.hpp (services 6-9). Expected frames come from PacketBuilder,
// which computes every checksum from scratch.
#include <netinet/in.h>

#include <cstring>
#include <set>

#include <gtest/gtest.h>
#include <rte_ring.h>

#include "engine/steer.hpp"
#include "ipvs_fixture.hpp"

namespace fulcrum::test {
namespace {

using namespace ipvsgold;

constexpr uint16_t kFirstLport = 1025;  // one worker owns every port; the pool starts here

Bytes be32(uint32_t net) {
  Bytes b(4);
  std::memcpy(b.data(), &net, 4);
  return b;
}

// A TCP frame like frame() (TTL 61, id 0x1234, DF) with explicit sequence
// numbers and options.
Bytes seg(const Mac& smac, const Mac& dmac, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
          uint8_t flags, uint32_t seq, uint32_t ack, Bytes opts = {}, const Bytes& payload = {}) {
  PacketBuilder b;
  b.eth(smac, dmac).ipv4(src, dst).ttl(61).ip_id(0x1234).frag(0x4000).tcp(sport, dport, flags, seq, ack);
  if (!opts.empty()) b.tcp_options(std::move(opts));
  return b.payload(payload).build();
}

// TOA: kind 254, length 8, the client's port and address.
Bytes toa_option(const Flow& f) {
  Bytes o = {254, 8, uint8_t(f.cport >> 8), uint8_t(f.cport)};
  Bytes a = be32(f.caddr);
  o.insert(o.end(), a.begin(), a.end());
  return o;
}

// The PROXY v2 header for f: signature, v2 PROXY, TCP over IPv4, 12 bytes
// of addresses: caddr, vaddr, cport, vport.
Bytes proxy_header(const Flow& f) {
  Bytes h = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0x00, 0x0c};
  for (uint32_t a : {f.caddr, f.vip}) {
    Bytes b = be32(a);
    h.insert(h.end(), b.begin(), b.end());
  }
  for (uint16_t p : {f.cport, f.vport}) {
    h.push_back(uint8_t(p >> 8));
    h.push_back(uint8_t(p));
  }
  return h;
}

Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

class FullnatGolden : public IpvsGolden {
 protected:
  uint64_t laddr_stat(uint32_t id, LaddrStat s) const { return laddr_rows_[id].get(s); }

  // f's SYN opens its connection from <f.laddr, f.lport>.
  static Step syn(const Flow& f) {
    Bytes in = f.c2v(kSyn);
    return Step{.in = {in}, .out1 = {f.fnat_to_dest(kSyn)}, .counters = {{Counter::conns_created, 1}},
                .stats = opened(f) + in_pkt(f, in)};
  }
  static Step reply(const Flow& f, uint8_t flags, Stats extra = {}) {
    Bytes in = f.d2l(flags);
    return Step{.port = 1, .in = {in}, .out0 = {f.nat_to_client(flags)}, .stats = out_pkt(f, in) + extra};
  }
  static Step in(const Flow& f, uint8_t flags, Stats extra = {}) {
    Bytes in = f.c2v(flags);
    return Step{.in = {in}, .out1 = {f.fnat_to_dest(flags)}, .stats = in_pkt(f, in) + extra};
  }
};

// ---- Both addresses rewritten -----------------------------------------

// In: <client:40000 -> VIP:80> leaves as <laddr:1025 -> dest:8080>, TTL,
// id and DF kept, both checksums from scratch. Out: the dest's reply to
// <laddr:1025> goes back to the client from the VIP. The handshake
// establishes the connection through the full state table, as NAT.
TEST_F(FullnatGolden, BothAddressesAreRewrittenBothWays) {
  const Flow f = fnat(kFirstLport);
  run({syn(f), reply(f, kSyn | kAck), in(f, kAck, established(f)), in(f, kAck | kPsh), reply(f, kAck | kPsh)});
  EXPECT_EQ(laddr_stat(kLaddrId, LaddrStat::used), 1u);
  EXPECT_EQ(laddr_stat(kLaddrId, LaddrStat::capacity), 65535u - 1025u + 1u);
  EXPECT_EQ(laddr_stat(kLaddrId, LaddrStat::conns), 1u);
}

TEST_F(FullnatGolden, UdpBothWaysAndUdpWithoutChecksumStaysWithout) {
  const Flow f = fnat_dns(kFirstLport);
  Bytes q = f.c2v(0, data(33)), r = f.d2l(0, data(71));
  run(Step{.in = {q}, .out1 = {f.fnat_to_dest(0, data(33))}, .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, q)});
  run(Step{.port = 1, .in = {r}, .out0 = {f.nat_to_client(0, data(71))}, .stats = out_pkt(f, r)});
  Bytes q0 = without_udp_cksum(q);
  run(Step{.in = {q0}, .out1 = {without_udp_cksum(f.fnat_to_dest(0, data(33)))}, .stats = in_pkt(f, q0)});
}

// Each new flow takes the next port; an expired connection gives its port
// back at the end of the queue, so it is the last to be reused.
TEST_F(FullnatGolden, PortsComeInOrderAndAReleasedPortIsReusedLast) {
  run(syn(fnat(kFirstLport, 40000)));
  run(syn(fnat(kFirstLport + 1, 40001)));
  ASSERT_EQ(laddr_stat(kLaddrId, LaddrStat::used), 2u);
  // SYN_RECV... the first connections time out (never answered: 60 s).
  run(Step{.at_ms = 61'000, .expire = true, .counters = {{Counter::conns_expired, 2}},
           .stats = half_open_expired(fnat(kFirstLport, 40000)) + half_open_expired(fnat(kFirstLport + 1, 40001))});
  EXPECT_EQ(laddr_stat(kLaddrId, LaddrStat::used), 0u);
  run(syn(fnat(kFirstLport + 2, 40002)));
}

// A new SYN on a connection whose dest health checks took out is scheduled
// afresh (ipvs_golden_test.cpp, section 10). Under FULLNAT the old
// connection's local port goes back to the pool and the new connection
// takes the next one: the pool neither leaks a port nor hands one out twice.
TEST_F(FullnatGolden, SynOnAConnectionToAnInhibitedDestTakesANewLocalPort) {
  constexpr uint32_t kFnat2 = 17;
  const Flow old = fnat(kFirstLport);
  run(syn(old));
  switch_to(ipvs_spec_failing_over(kSvcFnat, dest(kFnat2, kRs2, 8080, FwdMode::kFullnat)));  // rs1's checks failed
  if (HasFatalFailure()) return;
  const Flow fresh{IPPROTO_TCP, kVipFnat, 80, kRs2, kRs2Mac, 8080, old.cport, kSvcFnat, kFnat2,
                   kClient, kClientMac, kLaddr, kFirstLport + 1};
  Bytes in = fresh.c2v(kSyn);
  run(Step{.in = {in}, .out1 = {fresh.fnat_to_dest(kSyn)},
           .counters = {{Counter::conns_rescheduled, 1}, {Counter::conns_created, 1}},
           .stats = freed(old) + opened(fresh) + in_pkt(fresh, in)});
  EXPECT_EQ(laddr_stat(kLaddrId, LaddrStat::used), 1u);
  EXPECT_EQ(laddr_stat(kLaddrId, LaddrStat::conns), 2u);
  EXPECT_EQ(ipvs_->conns->size(), 1u);
  // rs1's late answer to the old port matches nothing; rs2's reaches the client.
  run(Step{.port = 1, .in = {old.d2l(kSyn | kAck)}, .counters = {{Counter::drop_no_service, 1}}});
  run(reply(fresh, kSyn | kAck));
}

// A packet to the local address that belongs to no connection is not a
// reply of ours: dropped as not for a service, never forwarded.
TEST_F(FullnatGolden, StrayPacketToALocalAddressIsDropped) {
  const Flow f = fnat(kFirstLport);
  run(Step{.port = 1, .in = {f.d2l(kAck)}, .counters = {{Counter::drop_no_service, 1}}});
}

// The local address is owned: it answers ping.
TEST_F(FullnatGolden, LocalAddressAnswersPing) {
  run(Step{.port = 1, .in = {echo(kRs1Mac, kLanMac, kRs1, kLaddr, false)},
           .out1 = {echo(kLanMac, kRs1Mac, kLaddr, kRs1, true)},
           .counters = {{Counter::icmp_echo_replies, 1}}});
}

// ---- TOA -------------------------------------------------------------

// TOA rides on the handshake's ACK and on the first data segment, not on
// later ones. The dest's SYN-ACK MSS is lowered by the 8 bytes TOA adds.
TEST_F(FullnatGolden, ToaOnTheHandshakeAckAndTheFirstDataSegmentAndMssLowered) {
  const Flow f = toa(kFirstLport);
  run(syn(f));
  Bytes mss1460 = {2, 4, 0x05, 0xb4}, mss1452 = {2, 4, 0x05, 0xac};
  Bytes sa = seg(f.dmac, kLanMac, f.daddr, f.dport, f.laddr, f.lport, kSyn | kAck, 5000, 1001, mss1460);
  run(Step{.port = 1, .in = {sa},
           .out0 = {seg(kWanMac, f.cmac, f.vip, f.vport, f.caddr, f.cport, kSyn | kAck, 5000, 1001, mss1452)},
           .stats = out_pkt(f, sa)});
  Bytes ack = f.c2v(kAck);
  run(Step{.in = {ack},
           .out1 = {seg(kLanMac, f.dmac, f.laddr, f.lport, f.daddr, f.dport, kAck, 1000, 2000, toa_option(f))},
           .counters = {{Counter::toa_added, 1}}, .stats = in_pkt(f, ack) + established(f)});
  Bytes d1 = f.c2v(kAck | kPsh, data(100));
  run(Step{.in = {d1},
           .out1 = {seg(kLanMac, f.dmac, f.laddr, f.lport, f.daddr, f.dport, kAck | kPsh, 1000, 2000,
                        toa_option(f), data(100))},
           .counters = {{Counter::toa_added, 1}}, .stats = in_pkt(f, d1)});
  Bytes d2 = f.c2v(kAck | kPsh, data(50));
  run(Step{.in = {d2}, .out1 = {f.fnat_to_dest(kAck | kPsh, data(50))}, .stats = in_pkt(f, d2)});
}

// A header already 60 bytes long has no room: sent without TOA, counted.
TEST_F(FullnatGolden, ToaWithoutOptionRoomIsCountedAndTheSegmentStillGoes) {
  const Flow f = toa(kFirstLport);
  run(syn(f));
  Bytes nops(40, 1);
  Bytes ack = seg(f.cmac, kWanMac, f.caddr, f.cport, f.vip, f.vport, kAck, 1000, 2000, nops);
  run(Step{.in = {ack},
           .out1 = {seg(kLanMac, f.dmac, f.laddr, f.lport, f.daddr, f.dport, kAck, 1000, 2000, nops)},
           .counters = {{Counter::toa_no_room, 1}}, .stats = in_pkt(f, ack) + established(f)});
}

// ---- PROXY protocol v2 -----------------------------------------------

// The header goes before the first data byte; from then on the client's
// sequence numbers grow by 28 towards the dest and the dest's
// acknowledgements and SACK blocks shrink by 28 towards the client. A
// retransmission of the first segment carries the header again.
TEST_F(FullnatGolden, ProxyV2HeaderBeforeTheFirstDataAndSequenceNumbersTranslated) {
  const Flow f = proxy(kFirstLport);
  const Mac& c = f.cmac;
  auto to_dest = [&](uint8_t fl, uint32_t seq, uint32_t ack, const Bytes& p) {
    return seg(kLanMac, f.dmac, f.laddr, f.lport, f.daddr, f.dport, fl, seq, ack, {}, p);
  };
  auto from_client = [&](uint8_t fl, uint32_t seq, uint32_t ack, const Bytes& p) {
    return seg(c, kWanMac, f.caddr, f.cport, f.vip, f.vport, fl, seq, ack, {}, p);
  };
  run(syn(f));
  Bytes ack = from_client(kAck, 1001, 5001, {});
  run(Step{.in = {ack}, .out1 = {to_dest(kAck, 1001, 5001, {})}, .stats = in_pkt(f, ack) + established(f)});
  Bytes d1 = from_client(kAck | kPsh, 1001, 5001, data(100));
  Bytes want1 = to_dest(kAck | kPsh, 1001, 5001, cat(proxy_header(f), data(100)));
  run(Step{.in = {d1}, .out1 = {want1}, .counters = {{Counter::proxy_v2_added, 1}}, .stats = in_pkt(f, d1)});
  Bytes d2 = from_client(kAck | kPsh, 1101, 5001, data(10));
  run(Step{.in = {d2}, .out1 = {to_dest(kAck | kPsh, 1129, 5001, data(10))}, .stats = in_pkt(f, d2)});
  // The dest acknowledges everything (1001 + 28 + 100 + 10) and SACKs a
  // block it never got: both come back in the client's numbers.
  Bytes sack = {1, 1, 5, 10, 0, 0, 0x05, 0x7c, 0, 0, 0x05, 0xe0};  // [1404, 1504)
  Bytes sack_client = {1, 1, 5, 10, 0, 0, 0x05, 0x60, 0, 0, 0x05, 0xc4};  // [1376, 1476)
  Bytes r = seg(f.dmac, kLanMac, f.daddr, f.dport, f.laddr, f.lport, kAck, 5001, 1139, sack);
  run(Step{.port = 1, .in = {r},
           .out0 = {seg(kWanMac, c, f.vip, f.vport, f.caddr, f.cport, kAck, 5001, 1111, sack_client)},
           .stats = out_pkt(f, r)});
  // The client retransmits its first segment: the header again, same seq.
  run(Step{.in = {d1}, .out1 = {want1}, .counters = {{Counter::proxy_v2_added, 1}}, .stats = in_pkt(f, d1)});
}

// Sequence numbers wrap: the translation is modulo 2^32.
TEST_F(FullnatGolden, ProxyV2SequenceTranslationWrapsAround) {
  const Flow f = proxy(kFirstLport);
  run(syn(f));
  uint32_t s = 0xfffffff0u;
  Bytes d1 = seg(f.cmac, kWanMac, f.caddr, f.cport, f.vip, f.vport, kAck | kPsh, s, 7, {}, data(8));
  run(Step{.in = {d1},
           .out1 = {seg(kLanMac, f.dmac, f.laddr, f.lport, f.daddr, f.dport, kAck | kPsh, s, 7, {},
                        cat(proxy_header(f), data(8)))},
           .counters = {{Counter::proxy_v2_added, 1}}, .stats = in_pkt(f, d1) + established(f)});
  Bytes d2 = seg(f.cmac, kWanMac, f.caddr, f.cport, f.vip, f.vport, kAck | kPsh, s + 8, 7, {}, data(8));
  run(Step{.in = {d2},
           .out1 = {seg(kLanMac, f.dmac, f.laddr, f.lport, f.daddr, f.dport, kAck | kPsh, s + 8 + 28, 7, {}, data(8))},
           .stats = in_pkt(f, d2)});
  Bytes r = seg(f.dmac, kLanMac, f.daddr, f.dport, f.laddr, f.lport, kAck, 7, s + 16 + 28);
  run(Step{.port = 1, .in = {r}, .out0 = {seg(kWanMac, f.cmac, f.vip, f.vport, f.caddr, f.cport, kAck, 7, s + 16)},
           .stats = out_pkt(f, r)});
}

// ---- ICMP errors -----------------------------------------------------

Bytes quote_of(const Bytes& frame) {
  size_t ihl = size_t(frame[kEthLen] & 0x0f) * 4;
  return Bytes(frame.begin() + kEthLen, frame.begin() + long(kEthLen + ihl + 8));
}

Bytes frag_needed(const Mac& smac, const Mac& dmac, uint32_t src, uint32_t dst, const Bytes& q) {
  return PacketBuilder().eth(smac, dmac).ipv4(src, dst).ttl(63).ip_id(0x5151).icmp(3, 4, 1400).payload(q).build();
}

// From the dest's side, about <laddr:lport -> dest>: the client gets it
// about its own <client -> VIP> packet, from the VIP. From the client's
// side, about <VIP -> client>: the dest gets it about its own reply
// <dest -> laddr:lport>, from the local address.
TEST_F(FullnatGolden, IcmpErrorsAreTranslatedBothWays) {
  const Flow f = fnat(kFirstLport);
  run(syn(f));
  run(Step{.port = 1, .in = {frag_needed(kRs1Mac, kLanMac, kRs1, kLaddr, quote_of(f.fnat_to_dest(kSyn)))},
           .out0 = {frag_needed(kWanMac, kClientMac, kVipFnat, kClient, quote_of(f.c2v(kSyn)))},
           .counters = {{Counter::icmp_errors_translated, 1}}});
  run(Step{.in = {frag_needed(kClientMac, kWanMac, kClient, kVipFnat, quote_of(f.nat_to_client(kSyn | kAck)))},
           .out1 = {frag_needed(kLanMac, kRs1Mac, kLaddr, kRs1, quote_of(f.d2l(kSyn | kAck)))},
           .counters = {{Counter::icmp_errors_translated, 1}}});
}

// ---- Several workers -------------------------------------------------

// With two workers, worker 0 owns the even local ports. A reply to an odd
// port is handed to worker 1 over its ring (counted), one to an even port
// stays; the owner processes what it is handed like any packet of its own.
TEST_F(FullnatGolden, RepliesToAnotherWorkersPortAreHandedToItsRing) {
  make_ipvs(IpvsConfig{.max_conns = 64, .max_services = kMaxServices, .max_dests = kMaxDests, .max_laddrs = 8});
  switch_to(ipvs_spec_without_persistence());  // clients are not steered then
  ipvs_->workers = 2;  // before the first fetch: the pool is built at first use
  ipvs_->laddrs = std::make_unique<LaddrPools>(0, 2, 8, laddr_rows_.data());
  rte_ring* ring = rte_ring_create(unique_name("steer").c_str(), 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  ASSERT_NE(ring, nullptr);
  rte_ring* to[2] = {nullptr, ring};
  ctx_->workers = 2;
  ctx_->redirect_to = to;
  const Flow mine = fnat(1026);  // the first even port
  run(syn(mine));
  Bytes theirs = fnat(1027, 40001).d2l(kAck);
  run(Step{.port = 1, .in = {theirs, mine.d2l(kSyn | kAck)}, .out0 = {mine.nat_to_client(kSyn | kAck)},
           .counters = {{Counter::redirected_out, 1}}, .stats = out_pkt(mine, mine.d2l(kSyn | kAck))});
  rte_mbuf* m = nullptr;
  ASSERT_EQ(rte_ring_sc_dequeue(ring, reinterpret_cast<void**>(&m)), 0);
  EXPECT_EQ(bytes_of(m), theirs);
  EXPECT_EQ(rte_ring_count(ring), 0u);
  // Handed over, the packet is processed (here: no such connection).
  LcoreCounters before = *ctr_;
  process_redirected(*ctx_, &m, 1);
  expect_counters(before, {{Counter::redirected_in, 1}, {Counter::drop_no_service, 1}});
  ctx_->redirect_to = nullptr;
  ctx_->workers = 1;
  rte_ring_free(ring);
}

}  // namespace
}  // namespace fulcrum::test

namespace fulcrum::test {
namespace {

using namespace ipvsgold;

// ---- SNAT ------------------------------------------------------------

// The dests' network 10.0.1.0/24 reaches the outside (192.168.0.0/16, via
// the wan router) from local address 10.0.0.60; rule ids 10 / dest 13.
const uint32_t kSnatLaddr = ip("10.0.0.60");
const uint32_t kOutside = ip("192.168.5.5");
constexpr uint32_t kSnatRule = 10, kSnatDest = 13, kSnatLaddrId = 3;

SnapshotSpec snat_spec(int32_t out_port = -1) {
  SnapshotSpec spec = ipvs_spec();
  spec.snat = {SnatSpec{kSnatRule, kSnatDest, ip("10.0.1.0"), 24, 0, 0, out_port, {Laddr{kSnatLaddrId, kSnatLaddr}}}};
  return spec;
}

// Stats rows of the rule: counted like a service with one dest.
Flow snat_flow(uint8_t proto, uint16_t lport) {
  return Flow{proto, kOutside, 443, kOutside, kRouterMac, 443, 33000, kSnatRule, kSnatDest, kRs1, kRs1Mac, kSnatLaddr, lport};
}

// Inside -> outside as received on the lan port, and as sent on wan.
Bytes inside_out(const Flow& f, uint8_t flags, const Bytes& p = {}) {
  return frame(f.proto, kRs1Mac, kLanMac, f.caddr, f.cport, f.vip, f.vport, flags, p);
}
Bytes leaves(const Flow& f, uint8_t flags, const Bytes& p = {}) {
  return frame(f.proto, kWanMac, kRouterMac, f.laddr, f.lport, f.vip, f.vport, flags, p);
}
Bytes reply_in(const Flow& f, uint8_t flags, const Bytes& p = {}) {
  return frame(f.proto, kRouterMac, kWanMac, f.vip, f.vport, f.laddr, f.lport, flags, p);
}
Bytes reply_back(const Flow& f, uint8_t flags, const Bytes& p = {}) {
  return frame(f.proto, kLanMac, kRs1Mac, f.vip, f.vport, f.caddr, f.cport, flags, p);
}

class SnatGolden : public IpvsGolden {
 protected:
  void SetUp() override {
    IpvsGolden::SetUp();
    switch_to(snat_spec());
  }
};

TEST_F(SnatGolden, TcpLeavesFromThePoolAddressAndTheReplyComesBack) {
  const Flow f = snat_flow(IPPROTO_TCP, 1025);
  Bytes syn = inside_out(f, kSyn);
  run(Step{.port = 1, .in = {syn}, .out0 = {leaves(f, kSyn)}, .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, syn)});
  Bytes sa = reply_in(f, kSyn | kAck);
  run(Step{.in = {sa}, .out1 = {reply_back(f, kSyn | kAck)}, .stats = out_pkt(f, sa)});
  Bytes ack = inside_out(f, kAck);
  run(Step{.port = 1, .in = {ack}, .out0 = {leaves(f, kAck)}, .stats = in_pkt(f, ack) + established(f)});
  EXPECT_EQ(laddr_rows_[kSnatLaddrId].get(LaddrStat::used), 1u);
}

// A retransmitted SYN stays on its connection: an SNAT connection belongs
// to its rule, which has no dest to be down.
TEST_F(SnatGolden, RetransmittedSynKeepsItsConnection) {
  const Flow f = snat_flow(IPPROTO_TCP, 1025);
  Bytes syn = inside_out(f, kSyn);
  run(Step{.port = 1, .in = {syn}, .out0 = {leaves(f, kSyn)}, .counters = {{Counter::conns_created, 1}},
           .stats = opened(f) + in_pkt(f, syn)});
  run(Step{.port = 1, .in = {syn}, .out0 = {leaves(f, kSyn)}, .stats = in_pkt(f, syn)});
}

TEST_F(SnatGolden, UdpBothWaysAndOnlyAPlainSynOpensTcp) {
  const Flow u = snat_flow(IPPROTO_UDP, 1025);
  Bytes q = inside_out(u, 0, data(20));
  run(Step{.port = 1, .in = {q}, .out0 = {leaves(u, 0, data(20))}, .counters = {{Counter::conns_created, 1}},
           .stats = opened(u) + in_pkt(u, q)});
  Bytes r = reply_in(u, 0, data(40));
  run(Step{.in = {r}, .out1 = {reply_back(u, 0, data(40))}, .stats = out_pkt(u, r)});
  const Flow t = snat_flow(IPPROTO_TCP, 1026);
  run(Step{.port = 1, .in = {inside_out(t, kAck)}, .counters = {{Counter::drop_no_conn, 1}}});
}

// Sources outside the rule, and destinations the balancer owns, are not
// translated: they go where they went without SNAT (here: dropped).
TEST_F(SnatGolden, FlowsOutsideTheRuleAreLeftAlone) {
  Bytes from_client = frame(IPPROTO_UDP, kClientMac, kWanMac, kClient, 5000, kOutside, 53, 0, data(8));
  Bytes to_laddr = frame(IPPROTO_UDP, kRs1Mac, kLanMac, kRs1, 5000, kSnatLaddr, 53, 0, data(8));
  run(Step{.in = {from_client}, .counters = {{Counter::drop_not_ours, 1}}});
  run(Step{.port = 1, .in = {to_laddr}, .counters = {{Counter::drop_no_service, 1}}});
}

// A rule naming an output port applies only to flows routed out of it.
TEST_F(SnatGolden, AnOutPortRuleIgnoresFlowsRoutedElsewhere) {
  switch_to(snat_spec(1));  // lan: the outside is routed via wan
  const Flow u = snat_flow(IPPROTO_UDP, 1025);
  run(Step{.port = 1, .in = {inside_out(u, 0, data(8))}, .counters = {{Counter::drop_not_ours, 1}}});
}

// Ping from inside: the request leaves with an identifier from the pool,
// the reply comes back with the host's own.
TEST_F(SnatGolden, IcmpEchoGetsAnIdentifierFromThePool) {
  auto ping = [](const Mac& s, const Mac& d, uint32_t src, uint32_t dst, bool reply, uint16_t id) {
    PacketBuilder b;
    b.eth(s, d).ipv4(src, dst).ip_id(0x4242).frag(0x4000).ttl(61);
    if (reply) b.icmp_echo_reply(id, 9);
    else b.icmp_echo_request(id, 9);
    return b.payload_size(24).build();
  };
  Bytes req = ping(kRs1Mac, kLanMac, kRs1, kOutside, false, 0x77);
  const Flow f{IPPROTO_ICMP, kOutside, 0, kOutside, kRouterMac, 0, 0x77, kSnatRule, kSnatDest, kRs1, kRs1Mac};
  run(Step{.port = 1, .in = {req}, .out0 = {ping(kWanMac, kRouterMac, kSnatLaddr, kOutside, false, 1025)},
           .counters = {{Counter::conns_created, 1}}, .stats = opened(f) + in_pkt(f, req)});
  Bytes rep = ping(kRouterMac, kWanMac, kOutside, kSnatLaddr, true, 1025);
  run(Step{.in = {rep}, .out1 = {ping(kLanMac, kRs1Mac, kOutside, kRs1, true, 0x77)}, .stats = out_pkt(f, rep)});
}

}  // namespace
}  // namespace fulcrum::test

namespace fulcrum::test {
namespace {

using namespace ipvsgold;

// ---- Client steering (persistence with several workers) ---------------

// The fixture's services include persistent ones (/24 and /32): clients
// are steered by their /24. A client's packets to any VIP and the NAT
// replies to it belong to one worker; a /24 shares it; both workers get
// clients; local addresses are still steered by port, packets to a port
// address by nobody.
TEST_F(IpvsGolden, PersistenceSteersEachClientNetToOneWorker) {
  ctx_->workers = 2;
  ASSERT_TRUE(snap_->steer_clients);
  EXPECT_EQ(snap_->steer_mask, ip("255.255.255.0"));
  auto owner = [&](const Bytes& f) {
    rte_mbuf* m = mbuf_from(f);
    PacketMeta meta;
    parse_packet(m, meta);
    int32_t o = steer_owner(*ctx_, m, meta);
    rte_pktmbuf_free(m);
    return o;
  };
  std::set<int32_t> seen;
  for (uint32_t net = 0; net < 32; net++) {
    uint32_t c1 = htonl(0xc0a80000u | net << 8 | 1), c2 = htonl(0xc0a80000u | net << 8 | 200);
    Flow a = web_to_rs1(), b = dr();
    a.caddr = c1, a.cmac = kRouterMac, b.caddr = c2, b.cmac = kRouterMac;
    int32_t o = owner(a.c2v(kSyn));
    ASSERT_GE(o, 0);
    EXPECT_EQ(owner(a.d2c(kSyn | kAck)), o) << "the NAT reply goes to the client's worker";
    EXPECT_EQ(owner(b.c2v(kSyn)), o) << "another client of the /24, another VIP";
    seen.insert(o);
  }
  EXPECT_EQ(seen, (std::set<int32_t>{0, 1}));
  EXPECT_EQ(owner(fnat(1027).d2l(kAck)), 1) << "local addresses by port";
  EXPECT_EQ(owner(echo(kClientMac, kWanMac, kClient, kWan, false)), -1);
  ctx_->workers = 1;
}

// Without persistent services, nothing but local addresses is steered.
TEST_F(IpvsGolden, NoClientSteeringWithoutPersistentServices) {
  switch_to(ipvs_spec_without_persistence());
  EXPECT_FALSE(ctx_->snap->steer_clients);
  EXPECT_TRUE(ctx_->snap->steering());  // the FULLNAT local addresses
}

}  // namespace
}  // namespace fulcrum::test

namespace fulcrum::test {
namespace {

using namespace ipvsgold;

// ---- Passive health signals ------------------------------------------

// A dest that answers the SYN with an RST refused the connection: the RST
// goes on to the client, and the dest's `resets` count moves (an RST on an
// established connection does not count).
TEST_F(IpvsGolden, ADestsRstToTheSynCountsAsARefusal) {
  const Flow f = web_to_rs1();
  run(nat_syn(f));
  Bytes rst = f.d2c(kRst | kAck);
  run(Step{.port = 1, .in = {rst}, .out0 = {f.nat_to_client(kRst | kAck)}, .stats = out_pkt(f, rst) + refused(f)});
  const Flow g = web_to_rs2();
  run(nat_handshake(g));
  run(nat_out(g, kRst | kAck, deactivated(g)));
}

}  // namespace
}  // namespace fulcrum::test
