// SPDX-License-Identifier: Apache-2.0
//
// Golden tests of persistence (LVS templates) and of the connection
// listing (ipvs_dump), on the fixture of ipvs_fixture.hpp. There, service
// 4 (10.0.0.103:80) keeps a client's /24 on one dest for 300 s, and
// service 5 (10.0.0.104, every port) keeps a client address on one dest,
// whose port 0 means "the port the client asked for". Both schedule rr, so
// without persistence new flows would alternate between the two dests
// (IpvsGolden.RrSendsTheSecondFlowToTheSecondDestAndTheThirdBackToTheFirst).
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ipvs_fixture.hpp"

namespace fulcrum::test {
namespace {

using namespace ipvsgold;

const uint32_t kNeighbour = ip("10.0.0.7");  // in the client's /24
const Mac kNeighbourMac = mac("02:cc:00:00:00:07");
const uint32_t kFarClient = ip("192.168.7.1");  // another /24, behind the router

// A flow of service 4 from caddr (next hop cmac), to dest 5 (10.0.1.11)
// or 6 (10.0.1.12).
Flow sticky(uint32_t dest_id, uint16_t cport, uint32_t caddr = kClient,
            const Mac& cmac = kClientMac) {
  bool one = dest_id == kSticky1;
  return Flow{IPPROTO_TCP, kVipSticky, 80, one ? kRs1 : kRs2, one ? kRs1Mac : kRs2Mac, 8080,
              cport, kSvcSticky, dest_id, caddr, cmac};
}

// A flow of the port-zero service 5 to vport, which its dest (7: 10.0.1.11,
// 8: 10.0.1.12) gets unchanged.
Flow any_port(uint32_t dest_id, uint16_t vport, uint16_t cport, uint32_t caddr = kClient,
              const Mac& cmac = kClientMac) {
  bool one = dest_id == kAnyPort1;
  return Flow{IPPROTO_TCP, kVipAnyPort, vport, one ? kRs1 : kRs2, one ? kRs1Mac : kRs2Mac, vport,
              cport, kSvcAnyPort, dest_id, caddr, cmac};
}

// The dest's `persistent` gauge counts its templates.
Stats template_made(uint32_t dest_id) { return {{{dest_id, DestStat::persistent, 1}}, {}}; }
Stats template_freed(uint32_t dest_id) { return {{{dest_id, DestStat::persistent, -1}}, {}}; }

std::string dotted(uint32_t a) {
  in_addr x{a};
  char buf[INET_ADDRSTRLEN];
  return inet_ntop(AF_INET, &x, buf, sizeof buf);
}

// One dump row as text, in the spirit of `ipvsadm -L -c`, so that a
// mismatch reads at a glance:
//   TCP SYN_RECV 10.0.0.1:40000 10.0.0.100:80 10.0.1.12:8080 svc 0 dest 1 50000 ms
std::string row_of(const ConnInfo& c) {
  std::string s = c.proto == IPPROTO_TCP ? "TCP " : c.proto == IPPROTO_UDP ? "UDP " : "proto? ";
  s += c.is_template ? "template" : tcp_state_name(TcpState(c.state));
  s += " " + dotted(c.caddr) + ":" + std::to_string(ntohs(c.cport));
  s += " " + dotted(c.vaddr) + ":" + std::to_string(ntohs(c.vport));
  s += " " + dotted(c.daddr) + ":" + std::to_string(ntohs(c.dport));
  s += " svc " + std::to_string(c.service_id) + " dest " + std::to_string(c.dest_id);
  return s + " " + std::to_string(c.expires_ms) + " ms";
}

// The row of f's connection in state st, left_ms before it expires.
std::string conn_row(const Flow& f, TcpState st, uint32_t left_ms) {
  return row_of(ConnInfo{f.proto, uint8_t(st), false, f.caddr, f.vip, f.daddr, htons(f.cport),
                         htons(f.vport), htons(f.dport), f.svc, f.dest, left_ms});
}

// The row of the template f's connection was made from: the client
// prefix, no client port, the service's VIP and port (0 for the port-zero
// service) and f's dest with its configured port.
std::string template_row(const Flow& f, const char* prefix, uint32_t left_ms) {
  uint16_t vport = f.svc == kSvcAnyPort ? 0 : f.vport;
  uint16_t dport = f.svc == kSvcAnyPort ? 0 : f.dport;
  return row_of(ConnInfo{f.proto, uint8_t(TcpState::kNone), true, ip(prefix), f.vip, f.daddr, 0,
                         htons(vport), htons(dport), f.svc, f.dest, left_ms});
}

using Rows = std::vector<std::string>;

Rows sorted(Rows r) {
  std::sort(r.begin(), r.end());
  return r;
}

class IpvsPersist : public IpvsGolden {
 protected:
  // f's SYN creates its connection, and its client's template when
  // new_template (else the client's template decides f's dest).
  static Step syn(const Flow& f, bool new_template) {
    Step st = nat_syn(f);
    if (new_template) st.stats = st.stats + template_made(f.dest);
    return st;
  }

  // The worker's rows matching filter, sorted (the table's order is the
  // hash's).
  Rows dump(const ConnFilter& filter = {}) const {
    Rows r;
    for (const ConnInfo& c : ipvs_dump(*ipvs_, filter)) r.push_back(row_of(c));
    return sorted(std::move(r));
  }
  Rows templates() const { return dump(ConnFilter{.templates = 1}); }

  // The template expiring at ms.
  static Step template_expires_at(uint64_t ms, uint32_t dest_id) {
    return Step{.at_ms = ms, .expire = true, .stats = template_freed(dest_id)};
  }
};

// ---- Persistence -----------------------------------------------------

// The first flow makes the client's template; later flows from other
// ports follow it to the same dest instead of rr's next one, and make no
// template of their own.
TEST_F(IpvsPersist, NewFlowsOfOneClientAllGoToTheDestOfItsTemplate) {
  run(syn(sticky(kSticky1, 40000), true));
  run(syn(sticky(kSticky1, 40001), false));
  run(syn(sticky(kSticky1, 40002), false));
  EXPECT_EQ(ipvs_->conns->size(), 4u);  // three connections and the template
  EXPECT_EQ(templates(), Rows{template_row(sticky(kSticky1, 0), "10.0.0.0", kPersistMs)});
}

// The template is the client's /24: a neighbour in it shares it, while a
// client of another /24 is scheduled (rr's next dest) and gets its own.
// Its replies go back through the router.
TEST_F(IpvsPersist, TheClientsSlash24SharesItsTemplateAnotherSlash24GetsItsOwn) {
  run(syn(sticky(kSticky1, 40000), true));
  run(syn(sticky(kSticky1, 40000, kNeighbour, kNeighbourMac), false));
  const Flow far = sticky(kSticky2, 40000, kFarClient, kRouterMac);
  run(syn(far, true));
  run(nat_syn_ack(far));
  run(syn(sticky(kSticky1, 40001), false));  // the first /24 still sticks to dest 5
  EXPECT_EQ(templates(), sorted({template_row(sticky(kSticky1, 0), "10.0.0.0", kPersistMs),
                                 template_row(far, "192.168.7.0", kPersistMs)}));
}

// A port-zero service takes every port of its VIP; its template has no
// port, so one client's flows to any port go to one dest, each to the
// port the client asked for (dest port 0). Its mask is /32: the client's
// neighbour is another client, rr's next dest.
TEST_F(IpvsPersist, PortZeroServiceSendsAClientsFlowsToAnyPortToOneDest) {
  run(syn(any_port(kAnyPort1, 80, 40000), true));
  run(syn(any_port(kAnyPort1, 443, 40001), false));
  const Flow tls = any_port(kAnyPort1, 8443, 40002);
  run(syn(tls, false));
  run(nat_syn_ack(tls));  // the reply leaves from VIP:8443
  const Flow other = any_port(kAnyPort2, 443, 40000, kNeighbour, kNeighbourMac);
  run(syn(other, true));
  EXPECT_EQ(templates(), sorted({template_row(tls, "10.0.0.1", kPersistMs),
                                 template_row(other, "10.0.0.7", kPersistMs)}));
  // The service is TCP only: UDP to its VIP is local input.
  Flow udp = dns();
  udp.vip = kVipAnyPort;
  run(Step{.in = {udp.c2v(0, data(8))}, .counters = {{Counter::drop_no_service, 1}}});
}

// FTP (LVS): a persistent service on port 21 keys its templates like the
// port-zero service of its VIP, so the data connection a client opens to
// another port of the VIP (taken by the port-zero service) goes to the
// server its control connection went to. Here rr would have sent it to
// the port-zero service's first dest instead.
TEST_F(IpvsPersist, FtpDataConnectionsFollowTheControlConnection) {
  auto ftp = [](uint32_t dest_id, uint32_t caddr, const Mac& cmac) {
    bool one = dest_id == kFtp1;
    return Flow{IPPROTO_TCP, kVipAnyPort, 21, one ? kRs1 : kRs2, one ? kRs1Mac : kRs2Mac, 21, 40000,
                kSvcFtp, dest_id, caddr, cmac};
  };
  run(syn(ftp(kFtp1, kNeighbour, kNeighbourMac), true));  // another client takes rr's first
  run(syn(ftp(kFtp2, kClient, kClientMac), true));        // ours goes to 10.0.1.12
  run(syn(any_port(kAnyPort2, 50123, 40001), false));     // its data connection too, on the template
  EXPECT_EQ(templates().size(), 2u) << "the data connection made no template of its own";
}

// The template outlives its connections: it lasts the persistence timeout
// after the last connection made from it (here at 100 s: until 400 s, not
// 300 s), and the client's next flow within it still goes to its dest.
// The dest's `persistent` gauge goes 0 -> 1 -> 0 with it.
TEST_F(IpvsPersist, TemplateLastsThePersistenceTimeoutAfterItsLastNewConnection) {
  const Flow a = sticky(kSticky1, 40000), b = sticky(kSticky1, 40001);
  EXPECT_EQ(dest_stat(kSticky1, DestStat::persistent), 0u);
  run(syn(a, true));  // SYN_RECV: 60 s
  EXPECT_EQ(dest_stat(kSticky1, DestStat::persistent), 1u);
  run(half_open_expires_at(60'000, a));
  at(100'000);
  run(syn(b, false));
  run(half_open_expires_at(160'000, b));
  EXPECT_EQ(templates(), Rows{template_row(a, "10.0.0.0", 240'000)});
  run(nothing_expires_at(300'000));
  run(nothing_expires_at(400'000 - 10));
  EXPECT_EQ(dest_stat(kSticky1, DestStat::persistent), 1u);
  run(template_expires_at(400'000, kSticky1));
  EXPECT_EQ(dest_stat(kSticky1, DestStat::persistent), 0u);
  EXPECT_EQ(ipvs_->conns->size(), 0u);
  // With the template gone the client is scheduled afresh: rr's next dest.
  run(syn(sticky(kSticky2, 40002), true));
}

// A template never expires while a connection refers to it: when its time
// comes it is re-armed for another persistence timeout. So an established
// connection keeps it past 300 s, and once the connection is gone (RST at
// 310 s, CLOSE for 10 s) it goes at its next due time, 600 s.
// (LVS re-checks such a template every 60 s instead, so it would go by
// 380 s; either way it outlives its last connection.)
TEST_F(IpvsPersist, TemplateIsKeptWhileAConnectionStillRefersToIt) {
  const Flow f = sticky(kSticky1, 40000);
  run(syn(f, true));
  run(nat_syn_ack(f));
  run(nat_in(f, kAck, established(f)));  // 900 s
  run(nothing_expires_at(300'000));
  EXPECT_EQ(templates(), Rows{template_row(f, "10.0.0.0", kPersistMs)});
  at(310'000);
  run(nat_in(f, kRst, deactivated(f)));
  run(expires_at(320'000, f));
  run(nothing_expires_at(600'000 - 10));
  run(template_expires_at(600'000, kSticky1));
  EXPECT_EQ(ipvs_->conns->size(), 0u);
}

// Quiescing the template's dest (weight 0 in a new snapshot) ends the
// template for new flows: the client's next flow is scheduled to the
// other dest with a new template, and the next ones follow that. The open
// connection still flows both ways, and the old template, no longer
// listed, lives until nothing refers to it and its time comes (300 s);
// only then does the quiesced dest's `persistent` gauge drop.
TEST_F(IpvsPersist, QuiescingTheTemplatesDestReschedulesTheClientButKeepsItsConnection) {
  const Flow a = sticky(kSticky1, 40000);
  run(syn(a, true));
  run(nat_syn_ack(a));
  run(nat_in(a, kAck, established(a)));
  switch_to(ipvs_spec(/*web_weight1=*/1, /*sticky_weight1=*/0));
  if (HasFatalFailure()) return;
  at(1'000);
  const Flow b = sticky(kSticky2, 40001), c = sticky(kSticky2, 40002);
  run(syn(b, true));
  run(syn(c, false));
  EXPECT_EQ(templates(), Rows{template_row(b, "10.0.0.0", kPersistMs)});
  EXPECT_EQ(dest_stat(kSticky1, DestStat::persistent), 1u);
  EXPECT_EQ(dest_stat(kSticky2, DestStat::persistent), 1u);
  run(nat_in(a, kAck | kPsh));
  run(nat_out(a, kAck | kPsh));
  at(2'000);
  run(nat_in(a, kRst, deactivated(a)));
  run(expires_at(12'000, a));
  run(Step{.at_ms = 61'000, .expire = true, .counters = {{Counter::conns_expired, 2}},
           .stats = half_open_expired(b) + half_open_expired(c)});
  run(template_expires_at(300'000, kSticky1));
  run(template_expires_at(301'000, kSticky2));
  EXPECT_EQ(ipvs_->conns->size(), 0u);
}

// An overloaded dest takes no new connection, not even through a
// template: once scheduling has seen dest 5 at its upper threshold (2
// connections, here while placing a client of another /24), the client's
// template to it is dropped and its next flow goes to dest 6.
TEST_F(IpvsPersist, TemplateToAnOverloadedDestIsDroppedOnceSchedulingSawTheOverload) {
  SnapshotSpec spec = ipvs_spec();
  spec.services[kSvcSticky].dests[0].upper = 2;
  switch_to(spec);
  if (HasFatalFailure()) return;
  run(syn(sticky(kSticky1, 40000), true));
  run(syn(sticky(kSticky1, 40001), false));
  run(syn(sticky(kSticky2, 40000, kFarClient, kRouterMac), true));
  run(syn(sticky(kSticky2, 40002), true));
}

// A template whose dest reached its upper threshold is dropped at that
// moment, whether or not any other client was scheduled in between: the
// template check computes the overload itself.
TEST_F(IpvsPersist, TemplateToAnOverloadedDestIsDroppedAtItsThreshold) {
  SnapshotSpec spec = ipvs_spec();
  spec.services[kSvcSticky].dests[0].upper = 2;
  switch_to(spec);
  if (HasFatalFailure()) return;
  run(syn(sticky(kSticky1, 40000), true));
  run(syn(sticky(kSticky1, 40001), false));  // dest 5 at its threshold
  run(syn(sticky(kSticky2, 40002), true));   // actually: dest 5, a third connection
}

// ---- Connection listing ----------------------------------------------

// Five flows opened at 0 s, listed at 10 s: an established NAT connection
// (900 s), a half-open one (SYN_RECV, 60 s), a UDP one (300 s), a
// persistent one with its template (300 s), and one from the far /24.
class IpvsDump : public IpvsPersist {
 protected:
  void open_flows() {
    run(nat_handshake(est));
    run(nat_syn(half));
    Bytes q = udp.c2v(0, data(8));
    run(Step{.in = {q},
             .out1 = {udp.nat_to_dest(0, data(8))},
             .counters = {{Counter::conns_created, 1}},
             .stats = opened(udp) + in_pkt(udp, q)});
    run(syn(stuck, true));
    run(nat_syn(far));  // rr's third pick: dest 0 again
    at(10'000);
  }

  const Flow est = web_to_rs1(40000), half = web_to_rs2(40001), udp = dns(5000),
             stuck = sticky(kSticky1, 40002),
             far = Flow{IPPROTO_TCP, kVip, 80, kRs1, kRs1Mac, 8080, 40003, kSvcWeb, kWeb1,
                        kFarClient, kRouterMac};
  const std::string r_est = conn_row(est, TcpState::kEstablished, 890'000),
                    r_half = conn_row(half, TcpState::kSynRecv, 50'000),
                    r_udp = conn_row(udp, TcpState::kNone, 290'000),
                    r_stuck = conn_row(stuck, TcpState::kSynRecv, 50'000),
                    r_tmpl = template_row(stuck, "10.0.0.0", 290'000),
                    r_far = conn_row(far, TcpState::kSynRecv, 50'000);
};

// Everything, each row with the time it has left, which follows the
// clock; expired connections leave the list.
TEST_F(IpvsDump, ListsEveryConnectionAndTemplateWithTheTimeItHasLeft) {
  open_flows();
  EXPECT_EQ(dump(), sorted({r_est, r_half, r_udp, r_stuck, r_tmpl, r_far}));
  run(Step{.at_ms = 60'000, .expire = true, .counters = {{Counter::conns_expired, 3}},
           .stats = half_open_expired(half) + half_open_expired(stuck) + half_open_expired(far)});
  EXPECT_EQ(dump(), sorted({conn_row(est, TcpState::kEstablished, 840'000),
                            conn_row(udp, TcpState::kNone, 240'000),
                            template_row(stuck, "10.0.0.0", 240'000)}));
}

TEST_F(IpvsDump, FiltersByServiceAndByDest) {
  open_flows();
  EXPECT_EQ(dump({.service_id = kSvcWeb}), sorted({r_est, r_half, r_far}));
  EXPECT_EQ(dump({.service_id = kSvcSticky}), sorted({r_stuck, r_tmpl}));
  EXPECT_EQ(dump({.dest_id = kWeb1}), sorted({r_est, r_far}));
  EXPECT_EQ(dump({.dest_id = kSticky1}), sorted({r_stuck, r_tmpl}));
  EXPECT_EQ(dump({.service_id = kSvcWeb, .dest_id = kWeb2}), Rows{r_half});
  EXPECT_EQ(dump({.service_id = kSvcDr}), Rows{});
}

// A template's client address is the client's prefix, so a filter on the
// client's own address (/32) does not match it.
TEST_F(IpvsDump, FiltersByClientPrefix) {
  open_flows();
  EXPECT_EQ(dump({.caddr = kFarNet, .cmask = ip("255.255.0.0")}), Rows{r_far});
  EXPECT_EQ(dump({.caddr = ip("10.0.0.0"), .cmask = ip("255.255.255.0")}),
            sorted({r_est, r_half, r_udp, r_stuck, r_tmpl}));
  EXPECT_EQ(dump({.caddr = kClient, .cmask = ip("255.255.255.255")}),
            sorted({r_est, r_half, r_udp, r_stuck}));
  EXPECT_EQ(dump({.caddr = kNeighbour, .cmask = ip("255.255.255.255")}), Rows{});
}

// States are TcpState numbers; templates and UDP connections are NONE.
TEST_F(IpvsDump, FiltersByState) {
  open_flows();
  EXPECT_EQ(dump({.state = int16_t(TcpState::kEstablished)}), Rows{r_est});
  EXPECT_EQ(dump({.state = int16_t(TcpState::kSynRecv)}), sorted({r_half, r_stuck, r_far}));
  EXPECT_EQ(dump({.state = int16_t(TcpState::kNone)}), sorted({r_udp, r_tmpl}));
  EXPECT_EQ(dump({.state = int16_t(TcpState::kNone), .templates = 0}), Rows{r_udp});
  EXPECT_EQ(dump({.state = int16_t(TcpState::kTimeWait)}), Rows{});
}

TEST_F(IpvsDump, ListsTemplatesAndConnectionsApart) {
  open_flows();
  EXPECT_EQ(dump({.templates = 1}), Rows{r_tmpl});
  EXPECT_EQ(dump({.templates = 0}), sorted({r_est, r_half, r_udp, r_stuck, r_far}));
  EXPECT_EQ(dump({.service_id = kSvcSticky, .templates = 0}), Rows{r_stuck});
}

// At most `limit` rows, each one a matching row.
TEST_F(IpvsDump, StopsAtTheLimit) {
  open_flows();
  Rows all = dump();
  Rows two = dump({.limit = 2});
  ASSERT_EQ(two.size(), 2u);
  for (const std::string& r : two)
    EXPECT_NE(std::find(all.begin(), all.end(), r), all.end()) << r;
  EXPECT_EQ(dump({.limit = 0}), Rows{});
  EXPECT_EQ(dump({.limit = 6}), all);
  EXPECT_EQ(dump({.service_id = kSvcWeb, .limit = 1}).size(), 1u);
}

}  // namespace
}  // namespace fulcrum::test
