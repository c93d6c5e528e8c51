// SPDX-License-Identifier: Apache-2.0
//
// Golden tests of the SYN proxy (service 11 of ipvs_fixture.hpp: NAT to
// 10.0.1.11:8080): SYN -> cookie SYN-ACK with no state, ACK -> SYN to the
// dest with the client's options, the dest's SYN-ACK absorbed and answered,
// held data released, the dest's numbers translated both ways, refusal and
// silence turned into an RST for the client. Exact bytes; the cookie is
// computed with the test's key.
#include <netinet/in.h>

#include <cstring>
#include <optional>

#include <gtest/gtest.h>

#include "ipvs_fixture.hpp"

namespace fulcrum::test {
namespace {

using namespace ipvsgold;

constexpr uint32_t kIsn = 0x11111111;    // the client's
constexpr uint32_t kDestIsn = 0x77770000;
constexpr uint32_t kClientTs = 777, kDestTs = 555'000;
constexpr uint16_t kCport = 40000;

Bytes be32(uint32_t v) { return {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)}; }
Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
// Options in the order the proxy writes them.
Bytes mss(uint16_t v) { return {2, 4, uint8_t(v >> 8), uint8_t(v)}; }
Bytes sack_ts(uint32_t val, uint32_t ecr) { return cat({{4, 2, 8, 10}, be32(val), be32(ecr)}); }
Bytes ts_only(uint32_t val, uint32_t ecr) { return cat({{1, 1, 8, 10}, be32(val), be32(ecr)}); }
Bytes ws(uint8_t v) { return {1, 3, 3, v}; }

struct Seg {
  uint32_t seq, ack;
  uint8_t flags;
  Bytes opts;
  Bytes payload;
  uint8_t ttl = 61;
  uint16_t id = 0x1234;
  uint16_t window = 8192;
};

Bytes make(const Mac& smac, const Mac& dmac, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, const Seg& s) {
  PacketBuilder b;
  b.eth(smac, dmac).ipv4(src, dst).ttl(s.ttl).ip_id(s.id).frag(0x4000).tcp(sport, dport, s.flags, s.seq, s.ack);
  b.tcp_window(s.window);
  if (!s.opts.empty()) b.tcp_options(s.opts);
  return b.payload(s.payload).build();
}
// The four directions of the flow.
Bytes from_client(const Seg& s) { return make(kClientMac, kWanMac, kClient, kCport, kVipSynproxy, 80, s); }
Bytes to_client(const Seg& s) { return make(kWanMac, kClientMac, kVipSynproxy, 80, kClient, kCport, s); }
Bytes to_dest(const Seg& s) { return make(kLanMac, kRs1Mac, kClient, kCport, kRs1, 8080, s); }
Bytes from_dest(const Seg& s) { return make(kRs1Mac, kLanMac, kRs1, 8080, kClient, kCport, s); }

const Flow kFlow{IPPROTO_TCP, kVipSynproxy, 80, kRs1, kRs1Mac, 8080, kCport, kSvcSynproxy, kSynproxy1};

class SynproxyGolden : public IpvsGolden {
 protected:
  uint32_t now32() const { return uint32_t(ipvs_->now_ms); }
  // The cookie of the test's SYN, made at the clock of the first call
  // (when the SYN is answered): later steps move the clock, maybe into the
  // next 64 s slot, whose cookie differs (a run that crossed one failed).
  uint32_t cookie() const {
    SynOptions o{1460, 7, true, true};
    if (!cookie_)
      cookie_ = cookie_make(kCookieKey, CookieFlow{kClient, kVipSynproxy, htons(kCport), htons(80), kIsn}, o, ipvs_->now_ms);
    return *cookie_;
  }
  mutable std::optional<uint32_t> cookie_;
  Bytes client_syn() const { return from_client({kIsn, 0, kSyn, cat({mss(1460), sack_ts(kClientTs, 0), ws(7)})}); }
  // Our SYN-ACK: TTL 63, id 0, window 65535, MSS 1460, SACK, TS, WS 7.
  Bytes our_syn_ack() const {
    return to_client({cookie(), kIsn + 1, kSyn | kAck, cat({mss(1460), sack_ts(now32(), kClientTs), ws(7)}), {}, 63, 0, 65535});
  }
  Bytes client_ack(uint32_t ack, const Bytes& payload = {}) const {
    return from_client({kIsn + 1, ack, kAck, ts_only(kClientTs + 1, now32()), payload});
  }
  // The SYN the dest gets: the client's ISN and options, from the client (NAT).
  Bytes dest_syn() const {
    return to_dest({kIsn, 0, kSyn, cat({mss(1460), sack_ts(kClientTs + 1, 0), ws(7)}), {}, 64, 0, 8192});
  }
  Bytes dest_syn_ack() const {
    return from_dest({kDestIsn, kIsn + 1, kSyn | kAck, cat({mss(1400), sack_ts(kDestTs, kClientTs + 1), ws(6)})});
  }
  // Our ACK to the dest after its SYN-ACK.
  Bytes dest_ack() const { return to_dest({kIsn + 1, kDestIsn + 1, kAck, ts_only(kClientTs + 1, kDestTs), {}, 64, 0, 8192}); }

  // SYN answered, ACK accepted: the connection waits for the dest.
  void open() {
    run(Step{.in = {client_syn()}, .out0 = {our_syn_ack()}, .counters = {{Counter::synproxy_syn_cookies, 1}}});
    ASSERT_EQ(ipvs_->conns->size(), 0u) << "a SYN made state";
    run(Step{.in = {client_ack(cookie() + 1)}, .out1 = {dest_syn()},
             .counters = {{Counter::synproxy_ack_ok, 1}, {Counter::conns_created, 1}}, .stats = opened(kFlow)});
  }
  Step absorbed(std::vector<Bytes> released = {}, Stats extra = {}) const {
    std::vector<Bytes> out = {dest_ack()};
    out.insert(out.end(), released.begin(), released.end());
    return Step{.port = 1, .in = {dest_syn_ack()}, .out1 = out, .counters = {{Counter::synproxy_established, 1}},
                .stats = established(kFlow) + extra};
  }
};

TEST_F(SynproxyGolden, SynIsAnsweredWithACookieAndNoState) {
  run(Step{.in = {client_syn()}, .out0 = {our_syn_ack()}, .counters = {{Counter::synproxy_syn_cookies, 1}}});
  EXPECT_EQ(ipvs_->conns->size(), 0u);
}

TEST_F(SynproxyGolden, AValidAckOpensTheConnectionWithTheClientsOptions) {
  open();
  EXPECT_EQ(ipvs_->conns->size(), 1u);
}

TEST_F(SynproxyGolden, ForgedAcksAndStrayPacketsMakeNoState) {
  Bytes wrong = client_ack(cookie() + 2);
  run(Step{.in = {wrong, from_client({kIsn, 0, kFin | kAck, {}})},
           .counters = {{Counter::synproxy_ack_bad, 1}, {Counter::synproxy_stray, 1}}});
  EXPECT_EQ(ipvs_->conns->size(), 0u);
}

TEST_F(SynproxyGolden, TheDestsSynAckIsAbsorbedAndDataIsTranslatedBothWays) {
  open();
  run(absorbed());
  // Client data: its acknowledgement moves into the dest's numbers.
  Bytes req = from_client({kIsn + 1, cookie() + 1, kAck | kPsh, ts_only(kClientTs + 2, now32()), data(20)});
  run(Step{.in = {req}, .out1 = {to_dest({kIsn + 1, kDestIsn + 1, kAck | kPsh, ts_only(kClientTs + 2, kDestTs), data(20)})},
           .stats = in_pkt(kFlow, req)});
  // Dest data: its sequence number and timestamp into ours, its window
  // (scale 6) into the scale we announced (7).
  Bytes resp = from_dest({kDestIsn + 1, kIsn + 21, kAck | kPsh, ts_only(kDestTs + 9, kClientTs + 2), data(30)});
  run(Step{.port = 1, .in = {resp},
           .out0 = {to_client({cookie() + 1, kIsn + 21, kAck | kPsh, ts_only(now32() + 9, kClientTs + 2), data(30), 61, 0x1234, 4096})},
           .stats = out_pkt(kFlow, resp)});
  // A SACK block from the client into the dest's numbers.
  Bytes sack = from_client({kIsn + 21, cookie() + 1, kAck, cat({{1, 1, 5, 10}, be32(cookie() + 100), be32(cookie() + 200)}), {}});
  run(Step{.in = {sack},
           .out1 = {to_dest({kIsn + 21, kDestIsn + 1, kAck, cat({{1, 1, 5, 10}, be32(kDestIsn + 100), be32(kDestIsn + 200)}), {}})},
           .stats = in_pkt(kFlow, sack)});
}

// The dest's numbers wrap around 2^32 while ours do not (or the other way
// round): the translation is modular.
TEST_F(SynproxyGolden, TranslationWrapsAround) {
  open();
  const uint32_t near_end = 0xfffffff8u;
  Bytes sa = from_dest({near_end, kIsn + 1, kSyn | kAck, cat({mss(1400), sack_ts(kDestTs, kClientTs + 1), ws(7)})});
  run(Step{.port = 1, .in = {sa},
           .out1 = {to_dest({kIsn + 1, near_end + 1, kAck, ts_only(kClientTs + 1, kDestTs), {}, 64, 0, 8192})},
           .counters = {{Counter::synproxy_established, 1}}, .stats = established(kFlow)});
  // 20 bytes from the dest cross 2^32 in its numbers: ours are cookie + 1.
  Bytes resp = from_dest({near_end + 1, kIsn + 1, kAck | kPsh, {}, data(20)});
  run(Step{.port = 1, .in = {resp}, .out0 = {to_client({cookie() + 1, kIsn + 1, kAck | kPsh, {}, data(20)})},
           .stats = out_pkt(kFlow, resp)});
  // The client acknowledges them in ours; the dest sees its wrapped number.
  Bytes ack = from_client({kIsn + 1, cookie() + 21, kAck, {}});
  run(Step{.in = {ack}, .out1 = {to_dest({kIsn + 1, near_end + 21, kAck, {}})}, .stats = in_pkt(kFlow, ack)});
  EXPECT_LT(near_end + 21, 100u) << "the test must cross 2^32";
}

TEST_F(SynproxyGolden, DataSentBeforeTheDestAnswersIsHeldThenReleasedInOrder) {
  open();
  Bytes d1 = from_client({kIsn + 1, cookie() + 1, kAck | kPsh, {}, data(10)});
  Bytes d2 = from_client({kIsn + 11, cookie() + 1, kAck | kPsh, {}, data(5)});
  run(Step{.in = {d1, d2, client_ack(cookie() + 1)}, .counters = {{Counter::synproxy_early, 1}}});
  run(absorbed({to_dest({kIsn + 1, kDestIsn + 1, kAck | kPsh, {}, data(10)}),
                to_dest({kIsn + 11, kDestIsn + 1, kAck | kPsh, {}, data(5)})},
               in_pkt(kFlow, d1) + in_pkt(kFlow, d2)));
}

TEST_F(SynproxyGolden, ADestThatRefusesGivesTheClientAnRst) {
  open();
  run(Step{.port = 1, .in = {from_dest({0, kIsn + 1, kRst | kAck, {}})},
           .out0 = {to_client({cookie() + 1, kIsn + 1, kRst | kAck, {}, {}, 63, 0, 0})},
           .counters = {{Counter::synproxy_dest_refused, 1}}, .stats = freed(kFlow) + refused(kFlow)});
  EXPECT_EQ(ipvs_->conns->size(), 0u);
}

TEST_F(SynproxyGolden, ASilentDestGetsTheSynAgainThenTheClientAnRst) {
  open();
  for (uint64_t r = 1; r <= 3; r++)
    run(Step{.at_ms = 1000 * r, .expire = true, .out1 = {dest_syn()}, .counters = {{Counter::synproxy_syn_retries, 1}}});
  run(Step{.at_ms = 4000, .expire = true, .out0 = {to_client({cookie() + 1, kIsn + 1, kRst | kAck, {}, {}, 63, 0, 0})},
           .counters = {{Counter::synproxy_dest_timeout, 1}, {Counter::conns_expired, 1}},
           .stats = half_open_expired(kFlow)});
  EXPECT_EQ(ipvs_->conns->size(), 0u);
}

// The client reuses its port while its connection waits for a dest that
// health checks have since taken out: the connection is freed and the SYN
// is answered with a cookie again, with no state (ipvs_golden_test.cpp,
// section 10); the client's ACK then opens a connection to a dest that is
// up.
TEST_F(SynproxyGolden, ASynOnAConnectionToAnInhibitedDestIsAnsweredAfresh) {
  constexpr uint32_t kSynproxy2 = 18;
  open();
  switch_to(ipvs_spec_failing_over(kSvcSynproxy, dest(kSynproxy2, kRs2, 8080, FwdMode::kNat)));  // rs1's checks failed
  if (HasFatalFailure()) return;
  run(Step{.in = {client_syn()}, .out0 = {our_syn_ack()},
           .counters = {{Counter::conns_rescheduled, 1}, {Counter::synproxy_syn_cookies, 1}}, .stats = freed(kFlow)});
  EXPECT_EQ(ipvs_->conns->size(), 0u) << "the SYN made state";
  const Flow to_rs2{IPPROTO_TCP, kVipSynproxy, 80, kRs2, kRs2Mac, 8080, kCport, kSvcSynproxy, kSynproxy2};
  Bytes syn_to_rs2 = make(kLanMac, kRs2Mac, kClient, kCport, kRs2, 8080,
                          {kIsn, 0, kSyn, cat({mss(1460), sack_ts(kClientTs + 1, 0), ws(7)}), {}, 64, 0, 8192});
  run(Step{.in = {client_ack(cookie() + 1)}, .out1 = {syn_to_rs2},
           .counters = {{Counter::synproxy_ack_ok, 1}, {Counter::conns_created, 1}}, .stats = opened(to_rs2)});
}

}  // namespace
}  // namespace fulcrum::test
