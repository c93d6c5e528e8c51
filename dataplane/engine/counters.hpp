// SPDX-License-Identifier: Apache-2.0
//
// Per-worker counters.
//
// Each worker owns one cache-line-aligned block of 64-bit counters and is
// the only thread that writes it, so increments need no atomics. The
// control thread reads the blocks without locks (an aligned 64-bit load is
// never torn on the platforms DPDK supports); the whole array is exposed
// to TypeScript as one ArrayBuffer, so reading counters copies nothing.
//
// The list below is the single source of the counter layout: the addon
// exports the names in this order and TypeScript indexes by name.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fulcrum {

// X(name): every counter, in layout order. drop_* are packets dropped,
// one counter per reason, so an operator can tell bad input from policy.
#define FULCRUM_COUNTERS(X)                                                   \
  X(rx_packets) X(rx_bytes) X(tx_packets) X(tx_bytes)                         \
  X(polls_busy) X(polls_idle)                                                 \
  X(arp_replies_sent) X(arp_requests_sent) X(garp_sent)                       \
  X(neigh_learned) X(neigh_held) X(neigh_released) X(neigh_table_full)        \
  X(icmp_echo_replies) X(icmp_frag_needed_sent) X(icmp_errors_translated)     \
  X(snapshot_switches) X(requests_done)                                       \
  X(conns_created) X(conns_expired) X(conns_reused) X(conns_rescheduled)       \
  X(conns_expired_nodest)                                                     \
  X(drop_runt) X(drop_ethertype) X(drop_arp_malformed) X(drop_arp_not_ours)   \
  X(drop_ip_version) X(drop_ip_ihl) X(drop_ip_length) X(drop_ip_checksum)     \
  X(drop_ip_fragment) X(drop_l4_truncated) X(drop_l4_checksum) X(drop_l4_proto) \
  X(drop_not_ours) X(drop_no_service) X(drop_icmp_type) X(drop_no_route)      \
  X(drop_neigh_failed) X(drop_neigh_hold_full) X(drop_tx_full) X(drop_no_mbuf)  \
  X(drop_no_conn) X(drop_no_dest) X(drop_conn_pool_full) X(drop_conn_index_full) \
  X(drop_conn_clash) X(drop_fwd_mode) X(drop_tun_too_big) X(drop_no_headroom)                    \
  X(drop_laddr_exhausted) X(toa_added) X(toa_no_room) X(proxy_v2_added)       \
  X(proxy_v2_no_room) X(redirected_out) X(redirected_in) X(drop_redirect_full) \
  X(synproxy_syn_cookies) X(synproxy_ack_ok) X(synproxy_ack_bad) X(synproxy_stray) \
  X(synproxy_state_full) X(synproxy_early) X(synproxy_hold_full) X(synproxy_established) \
  X(synproxy_dest_refused) X(synproxy_dest_timeout) X(synproxy_syn_retries)

enum class Counter : uint32_t {
#define FULCRUM_COUNTER_ENUM(name) name,
  FULCRUM_COUNTERS(FULCRUM_COUNTER_ENUM)
#undef FULCRUM_COUNTER_ENUM
      count
};

constexpr size_t kCounterCount = static_cast<size_t>(Counter::count);
constexpr size_t kCacheLine = 64;

// Names in layout order, for the binding and for logs.
extern const char* const kCounterNames[kCounterCount];

struct alignas(kCacheLine) LcoreCounters {
  uint64_t v[kCounterCount];

  void add(Counter c, uint64_t n = 1) { v[static_cast<size_t>(c)] += n; }
  uint64_t get(Counter c) const { return v[static_cast<size_t>(c)]; }
};

static_assert(sizeof(LcoreCounters) % kCacheLine == 0,
              "per-worker counter blocks must not share cache lines");

}  // namespace fulcrum
