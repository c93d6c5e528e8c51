// SPDX-License-Identifier: Apache-2.0
//
// The malformed-packet corpus: broken, truncated and nonsensical frames
// sent at the IPVS world (test/support/ipvs_world.hpp) through the whole
// packet path, process_burst(). One table; every case states exactly
// which counter moves (all others must stay), and either that nothing at
// all is sent or the exact frame that is. Cases that the dataplane handles
// (padding, IP options, empty UDP) show the exact output.
//
// The world is restarted between cases (IpvsWorld::stop/start): no case
// sees another's connections or counters.
#include <netinet/in.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ipvs_fixture.hpp"

namespace fulcrum::test {
namespace {

using namespace ipvsgold;

struct Case {
  std::string name;
  Step step;               // on port 0 unless step.port says otherwise
  bool open_web = false;   // first open web_to_rs1()'s connection (a SYN)
};

// ---- Frames ----------------------------------------------------------

const Flow kWeb = web_to_rs1();
const Flow kDns = dns();
const uint32_t kStranger = ip("10.0.0.77");  // on the wan subnet, not ours

// The client's packets to the web VIP (10.0.0.100:80), as Flow::c2v
// builds them, left open for one broken field.
PacketBuilder to_vip() {
  return PacketBuilder().eth(kClientMac, kWanMac).ipv4(kClient, kVip).ttl(61).ip_id(0x1234)
      .frag(0x4000);
}
PacketBuilder tcp_to_vip(uint8_t flags) { return to_vip().tcp(40000, 80, flags, 1000, 0); }
PacketBuilder udp_to_dns() { return to_vip().udp(5000, 53); }
PacketBuilder echo_to_vip() { return to_vip().icmp_echo_request(0x77, 1).payload_size(24); }

Bytes cut(Bytes b, size_t n) {
  b.resize(n);
  return b;
}

// A frame refused before anything was sent: exactly `why` moves.
Case dropped(std::string name, Bytes frame, Counter why) {
  return Case{std::move(name), Step{.in = {std::move(frame)}, .counters = {{why, 1}}}};
}

// An ICMP error from the router to the VIP quoting q: RFC 792 type 3
// (code 4, fragmentation needed, MTU 1400) unless told otherwise.
Bytes icmp_error(const Bytes& q, uint32_t dst = kVip, uint8_t type = 3, uint8_t code = 4) {
  return PacketBuilder().eth(kRouterMac, kWanMac).ipv4(kRouter, dst).ttl(63).ip_id(0x5151)
      .icmp(type, code, 1400).payload(q).build();
}

// What an error about the web flow's forwarded SYN quotes: its IP header
// and the first l4 bytes of TCP.
Bytes quote_of_web_syn(size_t l4 = 8) {
  Bytes f = kWeb.nat_to_dest(kSyn);
  return Bytes(f.begin() + kEthLen, f.begin() + long(kEthLen + 20 + l4));
}

// ---- The table -------------------------------------------------------

// Cut at every length short of the whole frame: below Ethernet + IPv4
// headers a runt, after that the IP total length exceeds the frame.
void truncations(std::vector<Case>& t, const std::string& what, const Bytes& whole) {
  for (size_t len = 0; len < whole.size(); len++)
    t.push_back(dropped(what + "_cut_to_" + std::to_string(len), cut(whole, len),
                        len < kEthLen + 20 ? Counter::drop_runt : Counter::drop_ip_length));
}

// The IP header is whole and consistent, but its total length leaves
// fewer than the L4 header's bytes (min) after it.
void l4_truncations(std::vector<Case>& t, const std::string& what, const PacketBuilder& b,
                    size_t min) {
  for (size_t k = 0; k < min; k++) {
    Bytes f = PacketBuilder(b).ip_total_length(uint16_t(20 + k)).build();
    t.push_back(dropped(what + "_header_of_" + std::to_string(k), cut(f, kEthLen + 20 + k),
                        Counter::drop_l4_truncated));
  }
}

void truncated_headers(std::vector<Case>& t) {
  truncations(t, "Tcp", tcp_to_vip(kSyn).build());
  truncations(t, "Udp", udp_to_dns().payload_size(4).build());
  truncations(t, "Icmp", echo_to_vip().build());
  l4_truncations(t, "Tcp", tcp_to_vip(kSyn), 20);
  l4_truncations(t, "Udp", udp_to_dns(), 8);
  l4_truncations(t, "Icmp", to_vip().icmp_echo_request(0x77, 1), 8);
  Bytes arp = PacketBuilder().eth(kClientMac, kBroadcast).arp(1, kClientMac, kClient, kZeroMac, kWan)
      .build();
  for (size_t len = 0; len < kEthLen + 28; len++)
    t.push_back(dropped("Arp_cut_to_" + std::to_string(len), cut(arp, len),
                        len < kEthLen ? Counter::drop_runt : Counter::drop_arp_malformed));
}

void ip_headers(std::vector<Case>& t) {
  for (uint8_t v : {0, 5, 6, 15})
    t.push_back(dropped("IpVersion" + std::to_string(v), tcp_to_vip(kSyn).ip_version(v).build(),
                        Counter::drop_ip_version));
  for (uint8_t ihl = 0; ihl < 5; ihl++)
    t.push_back(dropped("IhlBelowFive_" + std::to_string(ihl), tcp_to_vip(kSyn).ihl(ihl).build(),
                        Counter::drop_ip_ihl));
  // 15 words = 60 bytes: more than the 54-byte frame holds after Ethernet.
  t.push_back(dropped("IhlBeyondTheFrame", cut(tcp_to_vip(kSyn).ihl(15).build(), kEthLen + 40),
                      Counter::drop_ip_ihl));
  for (uint16_t total : {0, 1, 19})
    t.push_back(dropped("TotalLengthBelowIhl_" + std::to_string(total),
                        tcp_to_vip(kSyn).ip_total_length(total).build(), Counter::drop_ip_length));
  t.push_back(dropped("TotalLengthOneBeyondTheFrame", tcp_to_vip(kSyn).ip_total_length(41).build(),
                      Counter::drop_ip_length));
  t.push_back(dropped("TotalLength65535", tcp_to_vip(kSyn).ip_total_length(65535).build(),
                      Counter::drop_ip_length));
  t.push_back(dropped("BadIpChecksum", tcp_to_vip(kSyn).bad_ip_checksum().build(),
                      Counter::drop_ip_checksum));
  t.push_back(dropped("Ipv6Ethertype", tcp_to_vip(kSyn).eth(kClientMac, kWanMac, 0x86dd).build(),
                      Counter::drop_ethertype));
  t.push_back(dropped("VlanTagged", tcp_to_vip(kSyn).eth(kClientMac, kWanMac, 0x8100).build(),
                      Counter::drop_ethertype));
  t.push_back(dropped("GreToTheVip", to_vip().ip_proto(47).payload_size(24).build(),
                      Counter::drop_l4_proto));
}

// Accepted: padding is cut (the dest gets the bare packet), and IP
// options are kept as they are (NAT rewrites around them).
void handled_ip(std::vector<Case>& t) {
  Bytes padded = tcp_to_vip(kSyn).pad_to(120).build();
  t.push_back({"EthernetPaddingIsCut",
               Step{.in = {padded}, .out1 = {kWeb.nat_to_dest(kSyn)},
                    .counters = {{Counter::conns_created, 1}},
                    .stats = opened(kWeb) + in_pkt(kWeb, kWeb.c2v(kSyn))}});
  const Bytes opts = {0x01, 0x01, 0x01, 0x00};  // NOP NOP NOP EOL
  Bytes with_opts = tcp_to_vip(kSyn).ip_options(opts).build();
  Bytes forwarded = PacketBuilder().eth(kLanMac, kRs1Mac).ipv4(kClient, kRs1).ttl(61).ip_id(0x1234)
      .frag(0x4000).ip_options(opts).tcp(40000, 8080, kSyn, 1000, 0).build();
  t.push_back({"IpOptionsAreKept",
               Step{.in = {with_opts}, .out1 = {forwarded},
                    .counters = {{Counter::conns_created, 1}},
                    .stats = opened(kWeb) + in_pkt(kWeb, with_opts)}});
}

// No reassembly yet: every fragment is refused by name, whatever its place.
void fragments(std::vector<Case>& t) {
  auto frag = [](uint16_t flags_offset) {
    return to_vip().frag(flags_offset).tcp(40000, 80, kSyn, 1000, 0).payload_size(16).build();
  };
  t.push_back(dropped("FragmentFirst", frag(0x2000), Counter::drop_ip_fragment));
  t.push_back(dropped("FragmentMiddle", frag(0x2000 | 5), Counter::drop_ip_fragment));
  t.push_back(dropped("FragmentLast", frag(5), Counter::drop_ip_fragment));
  t.push_back(dropped("FragmentLastWithDf", frag(0x4000 | 5), Counter::drop_ip_fragment));
  // Two fragments of one datagram whose ranges overlap (0-39 and 8-47).
  t.push_back({"FragmentsOverlapping",
               Step{.in = {frag(0x2000), frag(0x2000 | 1)},
                    .counters = {{Counter::drop_ip_fragment, 2}}}});
}

// TCP to a VIP without a connection opens one only with a bare SYN.
void tcp_flags(std::vector<Case>& t) {
  const std::pair<const char*, uint8_t> nonsense[] = {
      {"SynFin", kSyn | kFin}, {"NoFlags", 0}, {"SynRst", kSyn | kRst}, {"SynAck", kSyn | kAck},
      {"FinOnly", kFin}, {"RstOnly", kRst}, {"AllFlags", 0x3f}};
  for (const auto& [name, flags] : nonsense)
    t.push_back(dropped(std::string("Tcp") + name + "ToVip", tcp_to_vip(flags).build(),
                        Counter::drop_no_conn));
  t.push_back(dropped("TcpDataOffsetBelowFive", tcp_to_vip(kSyn).tcp_data_off(4).build(),
                      Counter::drop_l4_truncated));
  t.push_back(dropped("TcpDataOffsetBeyondTheSegment", tcp_to_vip(kSyn).tcp_data_off(6).build(),
                      Counter::drop_l4_truncated));
  t.push_back(dropped("TcpSynToAVipPortWithoutService",
                      to_vip().tcp(40000, 81, kSyn, 1000, 0).build(), Counter::drop_no_service));
}

void udp(std::vector<Case>& t) {
  t.push_back(dropped("UdpLengthZero", udp_to_dns().payload_size(4).udp_length(0).build(),
                      Counter::drop_l4_truncated));
  t.push_back(dropped("UdpLengthBelowHeader", udp_to_dns().payload_size(4).udp_length(7).build(),
                      Counter::drop_l4_truncated));
  t.push_back(dropped("UdpLengthBelowPayload", udp_to_dns().payload_size(4).udp_length(11).build(),
                      Counter::drop_l4_truncated));
  t.push_back(dropped("UdpLengthAbovePayload", udp_to_dns().payload_size(4).udp_length(13).build(),
                      Counter::drop_l4_truncated));
  // A datagram with no payload is valid: forwarded like any other.
  Bytes empty = kDns.c2v(0);
  t.push_back({"UdpEmptyDatagramIsForwarded",
               Step{.in = {empty}, .out1 = {kDns.nat_to_dest(0)},
                    .counters = {{Counter::conns_created, 1}},
                    .stats = opened(kDns) + in_pkt(kDns, empty)}});
}

// ICMP errors that are no use to any connection fall through to local
// input: ICMP to an owned address other than an echo request.
void icmp(std::vector<Case>& t) {
  const Bytes garbage = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
                         0xcc, 0xdd, 0xee, 0xff, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                         0x09, 0x0a, 0x0b, 0x0c};
  t.push_back(dropped("IcmpErrorQuotingGarbage", icmp_error(garbage), Counter::drop_icmp_type));
  Bytes ihl_too_big = quote_of_web_syn();
  ihl_too_big[0] = 0x4f;  // a 60-byte header in a 28-byte quote
  t.push_back(dropped("IcmpErrorQuoteIhlBeyondTheQuote", icmp_error(ihl_too_big),
                      Counter::drop_icmp_type));
  for (size_t l4 : {0, 4, 7})
    t.push_back(dropped("IcmpErrorQuoteTruncatedTo" + std::to_string(l4) + "L4Bytes",
                        icmp_error(quote_of_web_syn(l4)), Counter::drop_icmp_type));
  Bytes icmp_quoted = quote_of_web_syn();
  icmp_quoted[9] = IPPROTO_ICMP;
  t.push_back(dropped("IcmpErrorQuotingIcmp", icmp_error(icmp_quoted), Counter::drop_icmp_type));
  t.push_back(dropped("IcmpErrorQuotingNoConnection", icmp_error(quote_of_web_syn()),
                      Counter::drop_icmp_type));
  t.push_back(dropped("IcmpErrorToAStranger", icmp_error(quote_of_web_syn(), kStranger),
                      Counter::drop_not_ours));
  t.push_back(dropped("IcmpRedirectQuotingAConnection", icmp_error(quote_of_web_syn(), kVip, 5, 1),
                      Counter::drop_icmp_type));
  // With the connection open, a corrupted error about it is refused
  // rather than translated (translation would recompute the checksum).
  Bytes corrupt = icmp_error(quote_of_web_syn());
  corrupt.back() ^= 0x01;
  Case c = dropped("IcmpErrorWithBadChecksumQuotingAConnection", corrupt, Counter::drop_l4_checksum);
  c.open_web = true;
  t.push_back(c);
  Bytes bad_echo = echo_to_vip().build();
  bad_echo.back() ^= 0x01;
  t.push_back(dropped("IcmpEchoWithBadChecksum", bad_echo, Counter::drop_l4_checksum));
}

std::vector<Case> corpus() {
  std::vector<Case> t;
  truncated_headers(t);
  ip_headers(t);
  handled_ip(t);
  fragments(t);
  tcp_flags(t);
  udp(t);
  icmp(t);
  return t;
}

class Malformed : public IpvsGolden {
 protected:
  void restart() {
    stop();
    std::string err;
    ASSERT_TRUE(start(err)) << err;
  }
};

TEST_F(Malformed, EveryCaseMovesExactlyItsCounterAndSendsExactlyItsFrames) {
  const std::vector<Case> cases = corpus();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    restart();
    if (c.open_web) run(nat_syn(kWeb));
    run(c.step);
  }
  EXPECT_EQ(cases.size(), 296u);  // the generated truncations are all there
}

}  // namespace
}  // namespace fulcrum::test
