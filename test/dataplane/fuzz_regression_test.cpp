// SPDX-License-Identifier: Apache-2.0
//
// What the fuzz targets (fuzz/) found, kept as tests with the exact bytes
// they found it with. Each test names the target and the broken promise.
// Received packets come from rx_mbuf(), as in the fuzzers, so that in the
// sanitized build (build/fuzz) ASan also sees any read past a frame.
#include <netinet/in.h>

#include <vector>

#include <gtest/gtest.h>

#include "frame_checksums.hpp"
#include "ipvs_fixture.hpp"
#include "net/packet.hpp"
#include "rx_mbuf.hpp"

namespace fulcrum::test {
namespace {

using namespace ipvsgold;

// parse_fuzz, "packet not trimmed to the IP total length": an echo request
// (42 bytes of IP packet) with 29 bytes of padding, received as a chain of
// 46 + 25 bytes. The padding is longer than the last segment, which
// rte_pktmbuf_trim() refuses to cut; the frame went on 71 bytes long.
TEST(FuzzRegression, PaddingLongerThanTheLastSegmentIsCutAcrossSegments) {
  const Bytes frame = hex_bytes(
      "00000000000102bb00000005 0800 45 00 001c 0000 0000 3d 01 69db 0a000005 0a000002"
      "0800 f7ed 0009 0000"
      "02000000000102bb0000000508004500001c0000000000000000400199");
  rte_mbuf* m = rx_mbuf(frame.data(), frame.size(), 46);
  PacketMeta meta;
  EXPECT_EQ(parse_packet(m, meta), PacketKind::kIpv4);
  EXPECT_EQ(rte_pktmbuf_pkt_len(m), 42u);
  EXPECT_EQ(rte_pktmbuf_data_len(m), 42u);
  EXPECT_EQ(m->nb_segs, 1u);
  EXPECT_EQ(m->next, nullptr);
  EXPECT_EQ(bytes_of(m), Bytes(frame.begin(), frame.begin() + 42));
  rte_pktmbuf_free(m);
  EXPECT_TRUE(rx_pool_full()) << "the cut segment leaked";
}

// ipvs_fuzz, "sent IPv4 total length != frame": the same through the whole
// path. A SYN to the persistent service, followed by the 204 bytes the
// fuzzer put after it, received as a chain of 255 + 3 bytes, was forwarded
// with all 258 bytes (the dest saw garbage after the IP packet, and the
// stats counted it).
TEST_F(IpvsGolden, FuzzChainedSynWithPaddingBeyondItsFirstSegmentIsForwardedTrimmed) {
  const Flow f{IPPROTO_TCP, kVipSticky, 80, kRs1, kRs1Mac, 8080, 40000, kSvcSticky, kSticky1};
  Bytes in = f.c2v(kSyn);
  const Bytes tail = hex_bytes(
      "0c00000000420200000000013a02cc00000001080045000034424240003d01121212121212121212"
      "1212121212121212121212121212121212121212121212121212121212010a000001000000000000"
      "0a0000660c000000003602000000000102cc00000001080045000028123440003d0617370a000001"
      "0a0000659ca40050000003e80000000050022000daa000240e000000003602000000000102cc0000"
      "0001080045000028123440003d0617360a0000010a0000669d080050000003e80000000050022000"
      "da3b0000");
  ASSERT_EQ(tail.size(), 204u);
  const size_t ip_len = in.size() - kEthLen;
  in.insert(in.end(), tail.begin(), tail.end());
  ASSERT_EQ(in.size(), 258u);

  LcoreCounters before = *ctr_;
  rte_mbuf* m = rx_mbuf(in.data(), in.size(), 255);
  process_burst(*ctx_, 0, &m, 1);
  expect_frames(1, {f.nat_to_dest(kSyn)});
  expect_frames(0, {});
  expect_counters(before, {{Counter::rx_packets, 1}, {Counter::rx_bytes, 258},
                           {Counter::conns_created, 1}});
  EXPECT_EQ(dest_stat(kSticky1, DestStat::inbytes), ip_len);
  EXPECT_TRUE(rx_pool_full());
}

// ipvs_fuzz, ASan use-after-poison in find_quote (ipvs/icmp_error.cpp): a
// fragmentation-needed error from the router to the VIP, received as a
// chain of 43 + 27 bytes, so that the quoted IP header starts one byte
// before the first segment ends. The quote's protocol byte was read past
// the segment before its contiguity was checked. Now the quote is found
// not contiguous, no connection claims the error, and as ICMP to an owned
// address other than echo it is dropped by type. The frame is the
// fuzzer's, checksums recomputed as the harness did (ctl bits 2 and 3).
TEST_F(IpvsGolden, FuzzIcmpErrorWhoseQuoteCrossesSegmentsIsNotReadPastTheFirst) {
  Bytes in = hex_bytes(
      "02000000000102ee000000fe080045000038515100003f0115130a0000fe0a0000640304570b80"
      "0005784500d90028123440003d0617380a000064ffff61b0022491e8000060");
  ASSERT_EQ(in.size(), 70u);
  ASSERT_TRUE(fix_l4_checksum(in.data(), in.size()));
  ASSERT_TRUE(fix_ip_checksum(in.data(), in.size()));
  LcoreCounters before = *ctr_;
  rte_mbuf* m = rx_mbuf(in.data(), in.size(), 43);
  process_burst(*ctx_, 0, &m, 1);
  expect_frames(0, {});
  expect_frames(1, {});
  expect_counters(before, {{Counter::rx_packets, 1}, {Counter::rx_bytes, 70},
                           {Counter::drop_icmp_type, 1}});
  EXPECT_TRUE(rx_pool_full());
}

// ipvs_fuzz, ASan use-after-poison in seen_options (ipvs/synproxy.cpp): a
// SYN to the SYN proxy service whose TCP options cross the end of its first
// segment. The walk went to the header's data offset, past the segment,
// into the poisoned tailroom. The fuzzer's input was not kept; these are
// the bytes of the same defect, minimal: MSS 1460, SACK permitted,
// timestamps (val 777), window scale 7 (40-byte header), received as a
// chain of 62 + 12 bytes, so that the first segment ends in the middle of
// the timestamp option. Now the options are walked in the first segment
// only: MSS and SACK permitted are seen, the cut timestamp and the window
// scale after it are not, and the cookie SYN-ACK offers exactly that.
TEST_F(IpvsGolden, FuzzSynproxySynWhoseOptionsCrossSegmentsIsNotReadPastTheFirst) {
  const Bytes in = hex_bytes(
      "020000000001 02cc00000001 0800 4500003c123440003d06171c0a0000010a00006c"
      "9c40 0050 11111111 00000000 a002 2000 51d8 0000"
      "020405b4 0402 080a 00000309 00000000 01 030307");
  ASSERT_EQ(in.size(), 74u);
  constexpr uint32_t isn = 0x11111111;
  const SynOptions seen{1460, kNoWscale, true, false};
  const uint32_t cookie = cookie_make(kCookieKey, CookieFlow{kClient, kVipSynproxy, htons(40000), htons(80), isn},
                                      seen, ipvs_->now_ms);
  PacketBuilder syn_ack;
  syn_ack.eth(kWanMac, kClientMac).ipv4(kVipSynproxy, kClient).ttl(63).ip_id(0).frag(0x4000)
      .tcp(80, 40000, kSyn | kAck, cookie, isn + 1).tcp_window(65535)
      .tcp_options({2, 4, 0x05, 0xb4, 1, 1, 4, 2});

  LcoreCounters before = *ctr_;
  rte_mbuf* m = rx_mbuf(in.data(), in.size(), 62);
  process_burst(*ctx_, 0, &m, 1);
  expect_frames(0, {syn_ack.build()});
  expect_frames(1, {});
  expect_counters(before, {{Counter::rx_packets, 1}, {Counter::rx_bytes, 74},
                           {Counter::synproxy_syn_cookies, 1}});
  EXPECT_EQ(ipvs_->conns->size(), 0u) << "a SYN made state";
  EXPECT_TRUE(rx_pool_full());
}

}  // namespace
}  // namespace fulcrum::test
