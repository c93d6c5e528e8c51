// SPDX-License-Identifier: Apache-2.0
//
// The SYN proxy: SYN cookies at the balancer, so that a SYN flood never
// allocates connection state, and a connection to a dest is opened only
// for clients that completed the handshake.
//
//   client                     balancer                        dest
//   SYN isn=C        ->  (no state) SYN-ACK seq=K (cookie)
//                    <-
//   ACK ack=K+1      ->  cookie checked; scheduled, conn made,
//                        SYN seq=C with the client's options  ->
//   data (held)      ->                                       <- SYN-ACK seq=D
//                        absorbed; ACK ack=D+1                ->
//                        held data released                   ->
//   from now on: the dest's sequence numbers are translated by D - K
//   (seq out, ack and SACK blocks in), its timestamps by the difference
//   between its clock and ours, its windows by the difference between its
//   window scale and the one we announced.
//
// The dest refusing (RST) gives the client an RST; a dest that does not
// answer gets the SYN again every retry interval, `retries` times, then
// the client gets an RST. Only NAT and FULLNAT dests (the balancer must
// see the replies); the control plane refuses the others.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "engine/worker_ctx.hpp"
#include "ipvs/conn.hpp"
#include "ipvs/syncookie.hpp"
#include "net/packet.hpp"

struct rte_mempool;

namespace fulcrum {

struct Service;
struct Tuple;

// SynproxyConfig::max_conns: as many SYN-proxied connections as connections.
inline constexpr uint32_t kSynproxyAllConns = UINT32_MAX;

// Settable as dataplane.synproxy in the config.
struct SynproxyConfig {
  uint16_t mss = 1460;       // announced to clients
  uint8_t wscale = 7;        // announced to clients that offer scaling
  bool sack = true;          // SACK permitted, when the client offers it
  bool timestamps = true;    // timestamps, when the client offers them
  uint8_t ttl = 63;          // of our SYN-ACKs and RSTs
  uint8_t retries = 3;       // SYNs to a silent dest after the first
  uint8_t hold = 4;          // client segments held while the dest answers (<= kSynproxyHoldMax)
  uint32_t retry_ms = 1000;  // between SYNs to a silent dest
  // SYN-proxied connections per worker, each holding a SynproxyState for
  // its life: kSynproxyAllConns for as many as IpvsConfig::max_conns, 0
  // for no SYN proxy at all (no pool, and no service may use it).
  uint32_t max_conns = kSynproxyAllConns;
  CookieKey key{};           // chosen at random at start
};

inline constexpr uint8_t kSynproxyHoldMax = 8;

// Per-connection SYN proxy state, from a per-worker pool; Conn::sp.
struct SynproxyState {
  uint32_t client_isn;   // host order
  uint32_t cookie;       // our ISN towards the client
  uint32_t seq_delta;    // dest ISN - cookie
  uint32_t ts_delta;     // dest TSval - our TSval
  uint32_t our_tsval;    // the TSval of our SYN-ACK (echoed by the client)
  uint32_t client_tsval; // the latest we saw, for our segments to the dest
  uint16_t client_win;   // from its ACK, for our ACK to the dest
  SynOptions opts;       // what the client offered (from the cookie)
  uint8_t dest_wscale;   // 0 when the dest does not scale
  bool established;      // the dest answered
  uint8_t retries;       // SYNs sent again so far
  uint8_t held;          // segments in hold[]
  rte_mbuf* hold[kSynproxyHoldMax];
};

// The SYNs of a burst, answered once the burst is through so that their
// cookies are made side by side (cookie_make_n): the MAC was the largest
// single cost of a SYN flood, one after the other. Per worker, empty
// between bursts. What each answer needs besides its cookie:
struct SynAnswers {
  uint32_t n = 0;
  rte_mbuf* m[kCookieBatch];   // the SYN, rewritten into the SYN-ACK
  CookieFlow flow[kCookieBatch];
  SynOptions opts[kCookieBatch];  // as negotiated
  uint32_t tsval[kCookieBatch];   // the client's, echoed
  uint16_t mss[kCookieBatch];     // the one we announce (per service)
};

// A TCP packet to synproxy service s with no connection: a SYN is queued
// for an answer with a cookie (synproxy_answer_syns), a valid ACK opens
// the connection, anything else is dropped and counted. Always consumes m.
void synproxy_in(WorkerCtx& ctx, const Service& s, rte_mbuf* m, const PacketMeta& meta, const Tuple& t,
                 uint8_t flags);

// Answers the SYNs synproxy_in queued: the pipeline calls it after each
// burst (and synproxy_in when the queue is full).
void synproxy_answer_syns(WorkerCtx& ctx);

// Sends the dest the SYN that opens c (again, on a retry) and arms the
// retry timer.
void synproxy_wait_dest(WorkerCtx& ctx, Conn& c);

// A packet of a connection with SYN proxy state. Returns true when the
// caller forwards it as usual (after the translation done here); false
// when it was consumed (held, absorbed, answered or dropped).
bool synproxy_packet(WorkerCtx& ctx, ConnHit hit, rte_mbuf* m, const PacketMeta& meta, uint8_t flags);

// The connection's timer fired while its dest has not answered: the SYN
// goes again (true: re-armed, keep it) or the client gets an RST (false:
// free it).
bool synproxy_expired(WorkerCtx& ctx, Conn& c);

// Releases c's SYN proxy state and what it holds.
void synproxy_release(IpvsWorker& v, Conn& c);

}  // namespace fulcrum
