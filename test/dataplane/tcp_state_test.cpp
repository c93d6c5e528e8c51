// SPDX-License-Identifier: Apache-2.0
//
// The TCP state machine: the whole transition table written out a second
// time in the compact notation of the IPVS source comments (so a slip in
// either copy shows), typical flows in each forwarding mode step by step,
// flag priority, names, active/inactive, the reuse rule and the timeouts.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ipvs/proto_tcp.hpp"

namespace fulcrum::test {
namespace {

using S = TcpState;
constexpr TcpDir kIn = TcpDir::kInput, kOut = TcpDir::kOutput, kInOnly = TcpDir::kInputOnly;
constexpr uint8_t kSynAckFlags = kTcpSyn | kTcpAck, kFinAckFlags = kTcpFin | kTcpAck,
                  kRstAckFlags = kTcpRst | kTcpAck, kPshAck = 0x08 | kTcpAck;

// "sES" -> kEstablished, from the two letters the IPVS table uses.
S abbrev(const std::string& a) {
  static const char* const kAbbrev[kTcpStateCount] = {"sNO", "sES", "sSS", "sSR", "sFW", "sTW",
                                                      "sCL", "sCW", "sLA", "sLI", "sSA"};
  for (size_t i = 0; i < kTcpStateCount; i++)
    if (a == kAbbrev[i]) return S(i);
  ADD_FAILURE() << "unknown abbreviation " << a;
  return S::kNone;
}

struct TableRow {
  TcpDir dir;
  uint8_t flags;  // a packet causing the row's event
  const char* next[kTcpStateCount];  // per current state, in state order
};

// Columns: sNO sES sSS sSR sFW sTW sCL sCW sLA sLI sSA.
const TableRow kTable[] = {
    {kIn, kTcpSyn, {"sSR", "sES", "sES", "sSR", "sSR", "sSR", "sSR", "sSR", "sSR", "sSR", "sSR"}},
    {kIn, kTcpFin, {"sCL", "sCW", "sSS", "sTW", "sTW", "sTW", "sCL", "sCW", "sLA", "sLI", "sTW"}},
    {kIn, kTcpAck, {"sES", "sES", "sSS", "sES", "sFW", "sTW", "sCL", "sCW", "sCL", "sLI", "sES"}},
    {kIn, kTcpRst, {"sCL", "sCL", "sCL", "sSR", "sCL", "sCL", "sCL", "sCL", "sLA", "sLI", "sSR"}},
    {kOut, kTcpSyn, {"sSS", "sES", "sSS", "sSR", "sSS", "sSS", "sSS", "sSS", "sSS", "sLI", "sSR"}},
    {kOut, kTcpFin, {"sTW", "sFW", "sSS", "sTW", "sFW", "sTW", "sCL", "sTW", "sLA", "sLI", "sTW"}},
    {kOut, kTcpAck, {"sES", "sES", "sSS", "sES", "sFW", "sTW", "sCL", "sCW", "sLA", "sES", "sES"}},
    {kOut, kTcpRst, {"sCL", "sCL", "sSS", "sCL", "sCL", "sTW", "sCL", "sCL", "sCL", "sCL", "sCL"}},
    {kInOnly, kTcpSyn, {"sSR", "sES", "sES", "sSR", "sSR", "sSR", "sSR", "sSR", "sSR", "sSR", "sSR"}},
    {kInOnly, kTcpFin, {"sCL", "sFW", "sSS", "sTW", "sFW", "sTW", "sCL", "sCW", "sLA", "sLI", "sTW"}},
    {kInOnly, kTcpAck, {"sES", "sES", "sSS", "sES", "sFW", "sTW", "sCL", "sCW", "sCL", "sLI", "sES"}},
    {kInOnly, kTcpRst, {"sCL", "sCL", "sCL", "sSR", "sCL", "sCL", "sCL", "sCL", "sLA", "sLI", "sCL"}},
};

TEST(TcpState, WholeTable) {
  for (const TableRow& row : kTable)
    for (size_t cur = 0; cur < kTcpStateCount; cur++)
      EXPECT_EQ(tcp_next_state(S(cur), row.dir, row.flags), abbrev(row.next[cur]))
          << "dir " << int(row.dir) << " flags 0x" << std::hex << int(row.flags) << " from "
          << tcp_state_name(S(cur));
}

// One packet of a flow and the state it must leave behind.
struct Step {
  TcpDir dir;
  uint8_t flags;
  S expect;
};

void run_flow(const char* name, const std::vector<Step>& steps) {
  S st = S::kNone;  // a new connection starts in NONE
  for (size_t i = 0; i < steps.size(); i++) {
    st = tcp_next_state(st, steps[i].dir, steps[i].flags);
    EXPECT_EQ(st, steps[i].expect) << name << ", packet " << i << ": got " << tcp_state_name(st)
                                   << ", want " << tcp_state_name(steps[i].expect);
  }
}

TEST(TcpState, NatHandshakeAndData) {
  run_flow("NAT open", {{kIn, kTcpSyn, S::kSynRecv},
                        {kOut, kSynAckFlags, S::kSynRecv},
                        {kIn, kTcpAck, S::kEstablished},
                        {kIn, kPshAck, S::kEstablished},
                        {kOut, kPshAck, S::kEstablished}});
}

TEST(TcpState, NatClientClosesFirst) {
  run_flow("NAT client close", {{kIn, kTcpSyn, S::kSynRecv},
                                {kOut, kSynAckFlags, S::kSynRecv},
                                {kIn, kTcpAck, S::kEstablished},
                                {kIn, kFinAckFlags, S::kCloseWait},
                                {kOut, kTcpAck, S::kCloseWait},
                                {kOut, kFinAckFlags, S::kTimeWait},
                                {kIn, kTcpAck, S::kTimeWait}});
}

TEST(TcpState, NatDestClosesFirst) {
  run_flow("NAT dest close", {{kIn, kTcpSyn, S::kSynRecv},
                              {kOut, kSynAckFlags, S::kSynRecv},
                              {kIn, kTcpAck, S::kEstablished},
                              {kOut, kFinAckFlags, S::kFinWait},
                              {kIn, kTcpAck, S::kFinWait},
                              {kIn, kFinAckFlags, S::kTimeWait},
                              {kOut, kTcpAck, S::kTimeWait}});
}

TEST(TcpState, NatSimultaneousFinsMeetInTimeWait) {
  run_flow("NAT both FIN", {{kIn, kTcpSyn, S::kSynRecv},
                            {kIn, kTcpAck, S::kEstablished},
                            {kIn, kFinAckFlags, S::kCloseWait},
                            {kOut, kFinAckFlags, S::kTimeWait},
                            {kIn, kTcpAck, S::kTimeWait},
                            {kOut, kTcpAck, S::kTimeWait}});
}

TEST(TcpState, ResetFromEitherSideCloses) {
  run_flow("client RST", {{kIn, kTcpSyn, S::kSynRecv},
                          {kIn, kTcpAck, S::kEstablished},
                          {kIn, kTcpRst, S::kClose}});
  run_flow("dest RST", {{kIn, kTcpSyn, S::kSynRecv},
                        {kIn, kTcpAck, S::kEstablished},
                        {kOut, kRstAckFlags, S::kClose}});
  // The dest refusing the connection (port closed): RST+ACK to the SYN.
  run_flow("refused", {{kIn, kTcpSyn, S::kSynRecv}, {kOut, kRstAckFlags, S::kClose}});
  run_flow("DR RST", {{kInOnly, kTcpSyn, S::kSynRecv},
                      {kInOnly, kTcpAck, S::kEstablished},
                      {kInOnly, kTcpRst, S::kClose}});
}

TEST(TcpState, ClientResetDuringHandshakeKeepsSynRecv) {
  // IPVS ignores a client RST in SYN_RECV (and SYNACK), a guard against
  // forged resets tearing down half-open connections; replies see it.
  EXPECT_EQ(tcp_next_state(S::kSynRecv, kIn, kTcpRst), S::kSynRecv);
  EXPECT_EQ(tcp_next_state(S::kSynRecv, kOut, kTcpRst), S::kClose);
}

TEST(TcpState, DrOpenAndClose) {
  run_flow("DR", {{kInOnly, kTcpSyn, S::kSynRecv},
                  {kInOnly, kTcpAck, S::kEstablished},
                  {kInOnly, kPshAck, S::kEstablished},
                  {kInOnly, kFinAckFlags, S::kFinWait},
                  {kInOnly, kTcpAck, S::kFinWait}});
  // A client FIN before its handshake ACK, as seen without replies.
  run_flow("DR early FIN", {{kInOnly, kTcpSyn, S::kSynRecv}, {kInOnly, kFinAckFlags, S::kTimeWait}});
}

TEST(TcpState, ClientFinSplitsByDirection) {
  // The same packet is half a close when replies are seen, and the whole
  // close when they are not.
  EXPECT_EQ(tcp_next_state(S::kEstablished, kIn, kFinAckFlags), S::kCloseWait);
  EXPECT_EQ(tcp_next_state(S::kEstablished, kInOnly, kFinAckFlags), S::kFinWait);
}

TEST(TcpState, SynOnLiveConnection) {
  EXPECT_EQ(tcp_next_state(S::kEstablished, kIn, kTcpSyn), S::kEstablished);
  EXPECT_EQ(tcp_next_state(S::kTimeWait, kIn, kTcpSyn), S::kSynRecv);
  EXPECT_EQ(tcp_next_state(S::kClose, kIn, kTcpSyn), S::kSynRecv);
}

TEST(TcpState, FlagPriority) {
  // RST beats everything, then SYN, FIN, ACK.
  EXPECT_EQ(tcp_next_state(S::kEstablished, kIn, kTcpSyn | kTcpRst), S::kClose);
  EXPECT_EQ(tcp_next_state(S::kEstablished, kIn, kTcpSyn | kTcpFin | kTcpRst | kTcpAck),
            S::kClose);
  EXPECT_EQ(tcp_next_state(S::kEstablished, kIn, kTcpSyn | kTcpFin), S::kEstablished);  // SYN
  EXPECT_EQ(tcp_next_state(S::kNone, kIn, kTcpSyn | kTcpFin), S::kSynRecv);
  EXPECT_EQ(tcp_next_state(S::kEstablished, kIn, kFinAckFlags), S::kCloseWait);  // FIN
  EXPECT_EQ(tcp_next_state(S::kNone, kOut, kSynAckFlags), S::kSynSent);          // SYN

  TcpEvent ev{};
  EXPECT_TRUE(tcp_event(kTcpRst | kTcpSyn, ev));
  EXPECT_EQ(ev, TcpEvent::kRst);
  EXPECT_TRUE(tcp_event(kTcpSyn | kTcpFin | kTcpAck, ev));
  EXPECT_EQ(ev, TcpEvent::kSyn);
  EXPECT_TRUE(tcp_event(kTcpFin | kTcpAck, ev));
  EXPECT_EQ(ev, TcpEvent::kFin);
  EXPECT_TRUE(tcp_event(kPshAck, ev));
  EXPECT_EQ(ev, TcpEvent::kAck);
}

TEST(TcpState, NoEventNoChange) {
  for (size_t cur = 0; cur < kTcpStateCount; cur++)
    for (TcpDir d : {kIn, kOut, kInOnly})
      for (uint8_t flags : {uint8_t(0), uint8_t(0x08), uint8_t(0x20), uint8_t(0xc8)})
        EXPECT_EQ(tcp_next_state(S(cur), d, flags), S(cur));
  TcpEvent ev{};
  EXPECT_FALSE(tcp_event(0x08, ev));
}

TEST(TcpState, IsConstexpr) {
  static_assert(tcp_next_state(S::kNone, TcpDir::kInput, kTcpSyn) == S::kSynRecv);
  static_assert(tcp_next_state(S::kSynRecv, TcpDir::kInput, kTcpAck) == S::kEstablished);
  static_assert(tcp_state_active(S::kEstablished));
  SUCCEED();
}

TEST(TcpState, Names) {
  const char* const want[kTcpStateCount] = {"NONE",      "ESTABLISHED", "SYN_SENT", "SYN_RECV",
                                            "FIN_WAIT",  "TIME_WAIT",   "CLOSE",    "CLOSE_WAIT",
                                            "LAST_ACK",  "LISTEN",      "SYNACK"};
  for (size_t i = 0; i < kTcpStateCount; i++) EXPECT_STREQ(tcp_state_name(S(i)), want[i]);
  EXPECT_STREQ(tcp_state_name(S(kTcpStateCount)), "ERR!");
  EXPECT_STREQ(tcp_state_name(S(255)), "ERR!");
}

TEST(TcpState, OutOfRangeStateIsKept) {
  EXPECT_EQ(tcp_next_state(S(200), kIn, kTcpSyn), S(200));
}

TEST(TcpState, OnlyEstablishedIsActive) {
  for (size_t i = 0; i < kTcpStateCount; i++)
    EXPECT_EQ(tcp_state_active(S(i)), S(i) == S::kEstablished) << tcp_state_name(S(i));
}

TEST(TcpState, ReuseReschedulesFinishedConnections) {
  for (size_t i = 0; i < kTcpStateCount; i++) {
    S st = S(i);
    bool finished = st == S::kTimeWait || st == S::kClose;
    EXPECT_EQ(tcp_conn_reuse_resched(st, kTcpSyn, kConnReuseClosed, false), finished)
        << tcp_state_name(st);
    EXPECT_EQ(tcp_conn_reuse_resched(st, kTcpSyn, kConnReuseClosed, true), finished)
        << tcp_state_name(st);
    EXPECT_FALSE(tcp_conn_reuse_resched(st, kTcpSyn, kConnReuseOff, true)) << tcp_state_name(st);
  }
}

TEST(TcpState, ReuseOnlyForPlainSyn) {
  EXPECT_TRUE(tcp_conn_reuse_resched(S::kTimeWait, kTcpSyn, kConnReuseClosed, false));
  EXPECT_FALSE(tcp_conn_reuse_resched(S::kTimeWait, kSynAckFlags, kConnReuseClosed, false));
  EXPECT_FALSE(tcp_conn_reuse_resched(S::kTimeWait, kTcpSyn | kTcpRst, kConnReuseClosed, false));
  EXPECT_FALSE(tcp_conn_reuse_resched(S::kTimeWait, kTcpAck, kConnReuseClosed, false));
  EXPECT_FALSE(tcp_conn_reuse_resched(S::kClose, kTcpFin, kConnReuseClosed, false));
  // Other bits (FIN, PSH, ECN) do not make it any less a new connection.
  EXPECT_TRUE(tcp_conn_reuse_resched(S::kClose, kTcpSyn | 0xc0, kConnReuseClosed, false));
}

TEST(TcpState, ReuseFinWaitOnlyWithoutReplies) {
  // Bit 2: FIN_WAIT too, but only where the close cannot get further.
  EXPECT_FALSE(tcp_conn_reuse_resched(S::kFinWait, kTcpSyn, kConnReuseClosed, true));
  EXPECT_TRUE(tcp_conn_reuse_resched(S::kFinWait, kTcpSyn, kConnReuseClosed | kConnReuseFinWaitDr,
                                     true));
  EXPECT_FALSE(tcp_conn_reuse_resched(S::kFinWait, kTcpSyn,
                                      kConnReuseClosed | kConnReuseFinWaitDr, false));
  // Any non-zero mode covers TIME_WAIT and CLOSE, as in IPVS.
  EXPECT_TRUE(tcp_conn_reuse_resched(S::kTimeWait, kTcpSyn, kConnReuseFinWaitDr, false));
  EXPECT_TRUE(tcp_conn_reuse_resched(S::kFinWait, kTcpSyn, kConnReuseFinWaitDr, true));
  EXPECT_FALSE(tcp_conn_reuse_resched(S::kEstablished, kTcpSyn,
                                      kConnReuseClosed | kConnReuseFinWaitDr, true));
}

TEST(TcpState, DefaultTimeouts) {
  ProtoTimeouts t;
  const uint32_t want_s[kTcpStateCount] = {2, 900, 120, 60, 120, 120, 10, 60, 30, 120, 120};
  for (size_t i = 0; i < kTcpStateCount; i++)
    EXPECT_EQ(t.tcp_ms(S(i)), want_s[i] * 1000) << tcp_state_name(S(i));
  EXPECT_EQ(t.udp, 300u * 1000);
  TimeoutSet shown = get_timeouts(t);  // ipvsadm -L --timeout: 900 120 300
  EXPECT_EQ(shown.tcp, 900u);
  EXPECT_EQ(shown.tcpfin, 120u);
  EXPECT_EQ(shown.udp, 300u);
}

TEST(TcpState, SetTimeoutsLikeIpvsadm) {
  ProtoTimeouts t;
  ASSERT_TRUE(set_timeouts(t, TimeoutSet{7200, 30, 60}));  // ipvsadm --set 7200 30 60
  EXPECT_EQ(t.tcp_ms(S::kEstablished), 7200u * 1000);
  EXPECT_EQ(t.tcp_ms(S::kFinWait), 30u * 1000);
  EXPECT_EQ(t.udp, 60u * 1000);
  // The other states keep their defaults.
  EXPECT_EQ(t.tcp_ms(S::kTimeWait), 120u * 1000);
  EXPECT_EQ(t.tcp_ms(S::kSynRecv), 60u * 1000);
  EXPECT_EQ(t.tcp_ms(S::kClose), 10u * 1000);

  // 0 leaves a value alone.
  ASSERT_TRUE(set_timeouts(t, TimeoutSet{0, 45, 0}));
  TimeoutSet shown = get_timeouts(t);
  EXPECT_EQ(shown.tcp, 7200u);
  EXPECT_EQ(shown.tcpfin, 45u);
  EXPECT_EQ(shown.udp, 60u);
}

TEST(TcpState, SetTimeoutsRefusesOverflowWholly) {
  ProtoTimeouts t;
  EXPECT_FALSE(set_timeouts(t, TimeoutSet{100, 100, kMaxTimeoutSeconds + 1}));
  EXPECT_EQ(t.tcp_ms(S::kEstablished), 900u * 1000);  // nothing changed
  EXPECT_EQ(t.tcp_ms(S::kFinWait), 120u * 1000);
  EXPECT_TRUE(set_timeouts(t, TimeoutSet{kMaxTimeoutSeconds, 0, 0}));
  EXPECT_EQ(get_timeouts(t).tcp, kMaxTimeoutSeconds);
}

}  // namespace
}  // namespace fulcrum::test
