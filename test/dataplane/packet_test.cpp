// SPDX-License-Identifier: Apache-2.0
//
// parse_packet() is the only gate between the wire and code that trusts
// header fields, so these tests pin both halves of its contract: valid
// frames come out with offsets that lie inside the packet, and every kind
// of malformed frame is dropped with the counter that names its defect.
#include <netinet/in.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/counters.hpp"
#include "net/packet.hpp"
#include "frame_expect.hpp"

namespace fulcrum::test {
namespace {

const Mac kPeerMac = mac("02:00:00:00:00:09");
const Mac kOurMac = mac("02:00:00:00:00:01");
const uint32_t kPeer = ip("10.0.0.9");
const uint32_t kUs = ip("10.0.0.2");

PacketBuilder ipv4_frame() { return PacketBuilder().eth(kPeerMac, kOurMac).ipv4(kPeer, kUs); }
PacketBuilder echo_frame() { return ipv4_frame().icmp_echo_request(0x1234, 1).payload_size(32); }
PacketBuilder tcp_frame() { return ipv4_frame().tcp(40000, 80, tcpflag::kSyn).payload_size(16); }
PacketBuilder udp_frame() { return ipv4_frame().udp(40000, 53).payload_size(10); }
PacketBuilder arp_frame() {
  return PacketBuilder().eth(kPeerMac, kBroadcast).arp(1, kPeerMac, kPeer, kZeroMac, kUs);
}

struct Parsed {
  PacketKind kind;
  PacketMeta meta;
  uint32_t pkt_len;
  uint16_t data_len;
};

// Parses a copy of frame in an mbuf and frees it again.
Parsed parse(const Bytes& frame, uint64_t ol_flags = 0) {
  rte_mbuf* m = mbuf_from(frame);
  m->ol_flags = ol_flags;
  Parsed p{};
  p.kind = parse_packet(m, p.meta);
  p.pkt_len = rte_pktmbuf_pkt_len(m);
  p.data_len = rte_pktmbuf_data_len(m);
  rte_pktmbuf_free(m);
  return p;
}

std::string counter_name(Counter c) {
  return c == Counter::count ? "(none)" : kCounterNames[static_cast<size_t>(c)];
}

class PacketTest : public ::testing::Test {
  PoolLeakCheck leaks_;
};

TEST_F(PacketTest, IcmpEchoParsesWithOffsets) {
  Parsed p = parse(echo_frame().build());
  ASSERT_EQ(p.kind, PacketKind::kIpv4);
  EXPECT_EQ(p.meta.l4_proto, IPPROTO_ICMP);
  EXPECT_EQ(p.meta.l3_off, 14);
  EXPECT_EQ(p.meta.l4_off, 34);
  EXPECT_EQ(p.meta.l4_len, 8 + 32);
}

TEST_F(PacketTest, TcpParsesWithOffsets) {
  Parsed p = parse(tcp_frame().build());
  ASSERT_EQ(p.kind, PacketKind::kIpv4);
  EXPECT_EQ(p.meta.l4_proto, IPPROTO_TCP);
  EXPECT_EQ(p.meta.l4_off, 34);
  EXPECT_EQ(p.meta.l4_len, 20 + 16);
}

TEST_F(PacketTest, UdpParsesWithOffsets) {
  Parsed p = parse(udp_frame().build());
  ASSERT_EQ(p.kind, PacketKind::kIpv4);
  EXPECT_EQ(p.meta.l4_proto, IPPROTO_UDP);
  EXPECT_EQ(p.meta.l4_off, 34);
  EXPECT_EQ(p.meta.l4_len, 8 + 10);
}

TEST_F(PacketTest, ArpParsesAsArp) {
  Parsed p = parse(arp_frame().build());
  ASSERT_EQ(p.kind, PacketKind::kArp);
  EXPECT_EQ(p.meta.l3_off, 14);
}

TEST_F(PacketTest, DontFragmentFlagIsNotAFragment) {
  EXPECT_EQ(parse(echo_frame().frag(0x4000).build()).kind, PacketKind::kIpv4);
}

struct Malformed {
  const char* what;
  Bytes frame;
  Counter drop;
};

// Cuts a frame to its first n bytes.
Bytes cut(Bytes b, size_t n) {
  b.resize(n);
  return b;
}

TEST_F(PacketTest, EachMalformedFrameHasItsOwnDropCounter) {
  const std::vector<Malformed> cases = {
      {"runt Ethernet header", cut(echo_frame().build(), 13), Counter::drop_runt},
      {"IPv4 ethertype, no room for an IP header", cut(echo_frame().build(), 14 + 19),
       Counter::drop_runt},
      {"IPv6 ethertype", echo_frame().eth(kPeerMac, kOurMac, 0x86dd).build(),
       Counter::drop_ethertype},
      {"VLAN tag", echo_frame().eth(kPeerMac, kOurMac, 0x8100).build(), Counter::drop_ethertype},
      {"version 6 in an IPv4 ethertype", echo_frame().ip_version(6).build(),
       Counter::drop_ip_version},
      {"IHL below 5", echo_frame().ihl(4).build(), Counter::drop_ip_ihl},
      {"IHL beyond the data", ipv4_frame().icmp_echo_request(1, 1).ihl(15).build(),
       Counter::drop_ip_ihl},
      {"total length below IHL", echo_frame().ip_total_length(19).build(),
       Counter::drop_ip_length},
      {"total length beyond the frame", echo_frame().ip_total_length(20 + 40 + 1).build(),
       Counter::drop_ip_length},
      {"bad header checksum", echo_frame().bad_ip_checksum().build(), Counter::drop_ip_checksum},
      {"more-fragments flag", echo_frame().frag(0x2000).build(), Counter::drop_ip_fragment},
      {"non-zero fragment offset", echo_frame().frag(0x0001).build(), Counter::drop_ip_fragment},
      {"TCP data offset below 5", tcp_frame().tcp_data_off(4).build(), Counter::drop_l4_truncated},
      {"TCP data offset beyond the segment",
       ipv4_frame().tcp(1, 2, tcpflag::kAck).tcp_data_off(6).build(), Counter::drop_l4_truncated},
      {"TCP header cut by total length", tcp_frame().ip_total_length(20 + 19).build(),
       Counter::drop_l4_truncated},
      {"UDP length above the IP payload", udp_frame().udp_length(8 + 10 + 1).build(),
       Counter::drop_l4_truncated},
      {"UDP length below the IP payload", udp_frame().udp_length(8 + 10 - 1).build(),
       Counter::drop_l4_truncated},
      // The bytes after the total length are still in the frame: they are
      // padding and must not be read as the rest of the ICMP header.
      {"ICMP header cut by total length", echo_frame().ip_total_length(20 + 4).build(),
       Counter::drop_l4_truncated},
      {"unknown L4 protocol (GRE)", ipv4_frame().ip_proto(47).payload_size(24).build(),
       Counter::drop_l4_proto},
      {"ARP body too short", cut(arp_frame().build(), 14 + 27), Counter::drop_arp_malformed},
  };
  for (const Malformed& c : cases) {
    SCOPED_TRACE(c.what);
    Parsed p = parse(c.frame);
    EXPECT_EQ(p.kind, PacketKind::kDrop);
    EXPECT_EQ(counter_name(p.meta.drop), counter_name(c.drop));
  }
}

// A frame cut anywhere must be refused, and for the right reason: short of
// the Ethernet or IP header it is a runt, past that the IP total length
// no longer fits. Only the whole frame parses.
TEST_F(PacketTest, TcpFrameTruncatedAtEveryOffsetIsRejected) {
  const Bytes whole = tcp_frame().build();
  for (size_t len = 0; len <= whole.size(); len++) {
    SCOPED_TRACE("length " + std::to_string(len));
    Parsed p = parse(cut(whole, len));
    if (len == whole.size()) {
      EXPECT_EQ(p.kind, PacketKind::kIpv4);
    } else {
      ASSERT_EQ(p.kind, PacketKind::kDrop);
      Counter want = len < 14 + 20 ? Counter::drop_runt : Counter::drop_ip_length;
      EXPECT_EQ(counter_name(p.meta.drop), counter_name(want));
    }
  }
}

// Whatever the bytes, an accepted IPv4 frame's offsets describe memory
// inside the packet: l4_off .. l4_off + l4_len is exactly the IP payload
// and the minimal L4 header is there. Random header corruption, seeded.
TEST_F(PacketTest, CorruptedHeadersNeverYieldOffsetsOutsideTheFrame) {
  std::mt19937 rng(20221111);
  const std::vector<Bytes> seeds = {echo_frame().build(), tcp_frame().build(),
                                    udp_frame().build(), echo_frame().pad_to(120).build()};
  int accepted = 0;
  for (int iter = 0; iter < 20000; iter++) {
    Bytes f = seeds[iter % seeds.size()];
    size_t span = std::min<size_t>(40, f.size() - 14);  // IP and L4 headers
    int flips = 1 + int(rng() % 3);
    for (int k = 0; k < flips; k++) f[14 + rng() % span] = uint8_t(rng());
    // Half the time fix the header checksum, so that corrupt lengths and
    // offsets get past it and reach the checks behind.
    uint8_t ihl = (f[14] & 0x0f) * 4;
    if (rng() % 2 == 0 && ihl >= 20 && 14u + ihl <= f.size()) {
      f[24] = f[25] = 0;
      uint16_t c = inet_checksum(&f[14], ihl);
      f[24] = uint8_t(c >> 8);
      f[25] = uint8_t(c);
    }
    if (rng() % 4 == 0) f.resize(rng() % (f.size() + 1));
    Parsed p = parse(f);
    if (p.kind != PacketKind::kIpv4) continue;
    accepted++;
    ASSERT_GE(p.meta.l4_off, p.meta.l3_off + 20) << "iteration " << iter;
    ASSERT_EQ(uint32_t(p.meta.l4_off) + p.meta.l4_len, p.pkt_len) << "iteration " << iter;
    ASSERT_LE(p.pkt_len, f.size()) << "iteration " << iter;
    uint16_t min = p.meta.l4_proto == IPPROTO_TCP ? 20 : 8;
    ASSERT_LE(p.meta.l4_off + min, p.data_len) << "iteration " << iter;
  }
  // Most corruptions break the checksum; make sure the invariant was
  // exercised on some accepted frames all the same.
  EXPECT_GT(accepted, 1000);
}

TEST_F(PacketTest, EthernetPaddingIsTrimmedToTheIpTotalLength) {
  Bytes frame = ipv4_frame().icmp_echo_request(7, 1).pad_to(60).build();
  ASSERT_EQ(frame.size(), 60u);
  Parsed p = parse(frame);
  ASSERT_EQ(p.kind, PacketKind::kIpv4);
  EXPECT_EQ(p.pkt_len, 14u + 20 + 8);
  EXPECT_EQ(p.data_len, 14 + 20 + 8);
  EXPECT_EQ(p.meta.l4_len, 8);
}

TEST_F(PacketTest, IpOptionsMoveTheL4Offset) {
  Bytes frame = echo_frame().ip_options({0x01, 0x01, 0x01, 0x00}).build();  // NOP NOP NOP EOL
  Parsed p = parse(frame);
  ASSERT_EQ(p.kind, PacketKind::kIpv4);
  EXPECT_EQ(p.meta.l4_off, 14 + 24);
  EXPECT_EQ(p.meta.l4_len, 8 + 32);
}

// A NIC that verified the checksum is trusted either way; only an
// unknown status makes the parser sum the header itself.
TEST_F(PacketTest, HardwareChecksumStatusIsTrusted) {
  EXPECT_EQ(parse(echo_frame().bad_ip_checksum().build(), RTE_MBUF_F_RX_IP_CKSUM_GOOD).kind,
            PacketKind::kIpv4);
  Parsed bad = parse(echo_frame().build(), RTE_MBUF_F_RX_IP_CKSUM_BAD);
  EXPECT_EQ(bad.kind, PacketKind::kDrop);
  EXPECT_EQ(counter_name(bad.meta.drop), "drop_ip_checksum");
}

TEST(Ipv4Checksum, VerifyAndRecomputeRoundTrip) {
  for (const Bytes& opts : {Bytes{}, Bytes{0x01, 0x01, 0x01, 0x00}}) {
    Bytes frame = echo_frame().ip_options(opts).build();
    uint8_t* hdr = frame.data() + 14;
    uint16_t hlen = uint16_t(20 + opts.size());
    EXPECT_TRUE(ipv4_checksum_ok(hdr, hlen));
    hdr[8]--;  // TTL, as a router would
    EXPECT_FALSE(ipv4_checksum_ok(hdr, hlen));
    ipv4_set_checksum(hdr);
    EXPECT_TRUE(ipv4_checksum_ok(hdr, hlen));
    // Same value as an independent computation over the header.
    Bytes expect = echo_frame().ip_options(opts).ttl(63).build();
    EXPECT_PRED_FORMAT2(FrameEq, expect, frame);
  }
}

}  // namespace
}  // namespace fulcrum::test
