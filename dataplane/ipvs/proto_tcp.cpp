// SPDX-License-Identifier: Apache-2.0
#include "ipvs/proto_tcp.hpp"

namespace fulcrum {
namespace {

// Spelled as ipvsadm prints them, so dumps compare with LVS output as is.
constexpr std::array<const char*, kTcpStateCount> kStateNames = {
    "NONE",     "ESTABLISHED", "SYN_SENT",   "SYN_RECV", "FIN_WAIT", "TIME_WAIT",
    "CLOSE",    "CLOSE_WAIT",  "LAST_ACK",   "LISTEN",   "SYNACK",
};

// A client opening a connection sends SYN alone; a SYN with ACK or RST
// belongs to the existing conversation (or is garbage) and must not tear
// the old connection down.
constexpr bool plain_syn(uint8_t flags) {
  return (flags & (kTcpSyn | kTcpAck | kTcpRst)) == kTcpSyn;
}

// Seconds from ipvsadm to milliseconds; 0 keeps the current value.
uint32_t updated(uint32_t current_ms, uint32_t seconds) {
  return seconds == 0 ? current_ms : seconds * 1000;
}

}  // namespace

const char* tcp_state_name(TcpState s) {
  return size_t(s) < kTcpStateCount ? kStateNames[size_t(s)] : "ERR!";
}

bool tcp_conn_reuse_resched(TcpState st, uint8_t tcp_flags, uint8_t reuse_mode,
                            bool input_only) {
  if (reuse_mode == kConnReuseOff || !plain_syn(tcp_flags)) return false;
  if (st == TcpState::kTimeWait || st == TcpState::kClose) return true;
  // Replies unseen: the close never gets past FIN_WAIT (see the header).
  return (reuse_mode & kConnReuseFinWaitDr) != 0 && input_only && st == TcpState::kFinWait;
}

bool set_timeouts(ProtoTimeouts& t, const TimeoutSet& s) {
  if (s.tcp > kMaxTimeoutSeconds || s.tcpfin > kMaxTimeoutSeconds ||
      s.udp > kMaxTimeoutSeconds)
    return false;
  uint32_t& est = t.tcp[size_t(TcpState::kEstablished)];
  uint32_t& fin = t.tcp[size_t(TcpState::kFinWait)];
  est = updated(est, s.tcp);
  fin = updated(fin, s.tcpfin);
  t.udp = updated(t.udp, s.udp);
  return true;
}

TimeoutSet get_timeouts(const ProtoTimeouts& t) {
  return TimeoutSet{t.tcp_ms(TcpState::kEstablished) / 1000, t.tcp_ms(TcpState::kFinWait) / 1000,
                    t.udp / 1000};
}

}  // namespace fulcrum
