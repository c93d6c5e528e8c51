// SPDX-License-Identifier: Apache-2.0
//
// TCP connection states as IPVS tracks them, and per-state timeouts.
//
// The balancer never terminates TCP, so it cannot know the true state of
// either end; it keeps a coarse state, good enough to pick a timeout and to
// tell active from inactive connections, and moves it with each packet's
// flags. A packet's event is the first of RST, SYN, FIN, ACK its flags
// carry (a packet with none of them changes nothing), and the move depends
// on which way the packet goes:
//
//   kInput      client -> balancer, in any mode;
//   kOutput     dest -> client through the balancer (NAT, FULLNAT);
//   kInputOnly  client -> balancer when replies bypass the balancer
//               (DR, TUN): the balancer sees one half of the conversation,
//               so a client FIN is taken as the whole close (FIN_WAIT) and
//               not as half of it (CLOSE_WAIT).
//
// The moves are one constant table, indexed [direction][event][state], with
// the same cells as the IPVS table (its non-"secure_tcp" one), so ipvsadm
// users see the states and the timers they expect. Two consequences of that
// table worth knowing: LAST_ACK and LISTEN are never entered (they exist for
// the names and the timeouts), and with replies bypassing the balancer an
// orderly close ends in FIN_WAIT, not TIME_WAIT.
//
// Timeouts are milliseconds per state, set per service; `ipvsadm --set tcp
// tcpfin udp` changes three of them (set_timeouts below).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace fulcrum {

// The order is the IPVS one (IP_VS_TCP_S_*): table columns and sync
// messages use these numbers.
enum class TcpState : uint8_t {
  kNone,
  kEstablished,
  kSynSent,
  kSynRecv,
  kFinWait,
  kTimeWait,
  kClose,
  kCloseWait,
  kLastAck,
  kListen,
  kSynAck,
};
inline constexpr size_t kTcpStateCount = 11;

enum class TcpDir : uint8_t { kInput, kOutput, kInputOnly };
inline constexpr size_t kTcpDirCount = 3;

// Table rows, in IPVS order.
enum class TcpEvent : uint8_t { kSyn, kFin, kAck, kRst };
inline constexpr size_t kTcpEventCount = 4;

// The bits of the TCP header's flags byte that matter here.
inline constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpAck = 0x10;

// Only a plain SYN may open a connection.
inline bool tcp_is_syn_only(uint8_t flags) { return (flags & (kTcpSyn | kTcpAck | kTcpRst | kTcpFin)) == kTcpSyn; }

namespace tcp_table {
// Short names so that the table below reads like the IPVS one.
inline constexpr TcpState sNO = TcpState::kNone, sES = TcpState::kEstablished,
                          sSS = TcpState::kSynSent, sSR = TcpState::kSynRecv,
                          sFW = TcpState::kFinWait, sTW = TcpState::kTimeWait,
                          sCL = TcpState::kClose, sCW = TcpState::kCloseWait,
                          sLA = TcpState::kLastAck, sLI = TcpState::kListen,
                          sSA = TcpState::kSynAck;

using Row = std::array<TcpState, kTcpStateCount>;
using DirRows = std::array<Row, kTcpEventCount>;

// [direction][event][current state] -> next state.
inline constexpr std::array<DirRows, kTcpDirCount> kNext = {{
    // kInput: the client's packets, replies seen too.
    //       sNO  sES  sSS  sSR  sFW  sTW  sCL  sCW  sLA  sLI  sSA
    {{/*syn*/ {sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR},
      /*fin*/ {sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sTW},
      /*ack*/ {sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES},
      /*rst*/ {sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sSR}}},
    // kOutput: the dest's replies.
    //       sNO  sES  sSS  sSR  sFW  sTW  sCL  sCW  sLA  sLI  sSA
    {{/*syn*/ {sSS, sES, sSS, sSR, sSS, sSS, sSS, sSS, sSS, sLI, sSR},
      /*fin*/ {sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW},
      /*ack*/ {sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES},
      /*rst*/ {sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL}}},
    // kInputOnly: the client's packets, replies not seen (DR, TUN).
    //       sNO  sES  sSS  sSR  sFW  sTW  sCL  sCW  sLA  sLI  sSA
    {{/*syn*/ {sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR},
      /*fin*/ {sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW},
      /*ack*/ {sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES},
      /*rst*/ {sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL}}},
}};
}  // namespace tcp_table

// The event a packet with these flags causes, by priority RST, SYN, FIN,
// ACK; false when it carries none of them (such a packet keeps the state).
constexpr bool tcp_event(uint8_t flags, TcpEvent& ev) {
  if (flags & kTcpRst) ev = TcpEvent::kRst;
  else if (flags & kTcpSyn) ev = TcpEvent::kSyn;
  else if (flags & kTcpFin) ev = TcpEvent::kFin;
  else if (flags & kTcpAck) ev = TcpEvent::kAck;
  else return false;
  return true;
}

// The state after a packet with tcp_flags going in direction dir. Inline:
// it runs for every TCP packet.
constexpr TcpState tcp_next_state(TcpState cur, TcpDir dir, uint8_t tcp_flags) {
  TcpEvent ev{};
  if (!tcp_event(tcp_flags, ev) || size_t(cur) >= kTcpStateCount) return cur;
  return tcp_table::kNext[size_t(dir)][size_t(ev)][size_t(cur)];
}

// "ESTABLISHED", "SYN_RECV", ... as ipvsadm -L -c prints them; "ERR!" for a
// value out of range.
const char* tcp_state_name(TcpState s);

// Whether a connection in state s counts as active for the dest's
// connection counts (the least-connection schedulers weigh active ones
// far more): ESTABLISHED only, every other state is inactive.
constexpr bool tcp_state_active(TcpState s) { return s == TcpState::kEstablished; }

// conn_reuse_mode, as the IPVS sysctl of that name: 0 never reschedules;
// any other value reschedules over TIME_WAIT and CLOSE, and the bit
// kConnReuseFinWaitDr over FIN_WAIT too when replies bypass the balancer.
inline constexpr uint8_t kConnReuseOff = 0;
inline constexpr uint8_t kConnReuseClosed = 1;     // the IPVS default
inline constexpr uint8_t kConnReuseFinWaitDr = 2;

// Whether a packet with tcp_flags that matched an existing connection in
// state st is in fact a new connection from a client reusing the port, so
// that the old connection must be expired and the packet scheduled afresh
// (possibly to another dest). Only a plain SYN (no ACK, no RST) is one,
// and only when the old connection has finished: TIME_WAIT or CLOSE, or
// with kConnReuseFinWaitDr FIN_WAIT when the balancer does not see replies
// (input_only), since there an orderly close stops in FIN_WAIT. A SYN on
// a connection whose dest is down is the caller's to reschedule
// (supersede.cpp), which knows the services.
bool tcp_conn_reuse_resched(TcpState st, uint8_t tcp_flags, uint8_t reuse_mode, bool input_only);

// Per-state timeouts of one service, in milliseconds.
using TcpTimeouts = std::array<uint32_t, kTcpStateCount>;

// The IPVS defaults, in state order.
inline constexpr TcpTimeouts kDefaultTcpTimeouts = {
    2 * 1000,    // NONE
    900 * 1000,  // ESTABLISHED
    120 * 1000,  // SYN_SENT
    60 * 1000,   // SYN_RECV
    120 * 1000,  // FIN_WAIT
    120 * 1000,  // TIME_WAIT
    10 * 1000,   // CLOSE
    60 * 1000,   // CLOSE_WAIT
    30 * 1000,   // LAST_ACK
    120 * 1000,  // LISTEN
    120 * 1000,  // SYNACK
};
inline constexpr uint32_t kDefaultUdpTimeout = 300 * 1000;

struct ProtoTimeouts {
  TcpTimeouts tcp = kDefaultTcpTimeouts;
  uint32_t udp = kDefaultUdpTimeout;

  uint32_t tcp_ms(TcpState s) const {
    return size_t(s) < kTcpStateCount ? tcp[size_t(s)] : tcp[size_t(TcpState::kClose)];
  }
};

// The three values `ipvsadm --set` and `ipvsadm -L --timeout` deal in, in
// seconds.
struct TimeoutSet {
  uint32_t tcp = 0;     // ESTABLISHED
  uint32_t tcpfin = 0;  // FIN_WAIT
  uint32_t udp = 0;
};

// The largest timeout accepted, in seconds (the milliseconds must fit in
// 32 bits).
inline constexpr uint32_t kMaxTimeoutSeconds = UINT32_MAX / 1000;

// `ipvsadm --set tcp tcpfin udp`: a 0 leaves that timeout as it is. Returns
// false and changes nothing when a value exceeds kMaxTimeoutSeconds.
bool set_timeouts(ProtoTimeouts& t, const TimeoutSet& s);
// The current values, as `ipvsadm -L --timeout` shows them.
TimeoutSet get_timeouts(const ProtoTimeouts& t);

}  // namespace fulcrum
