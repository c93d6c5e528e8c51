// SPDX-License-Identifier: Apache-2.0
//
// The fixture of the IPVS golden tests (ipvs_golden_test.cpp,
// ipvs_persist_test.cpp): frames in, exact frames out, on the topology and
// services of test/support/ipvs_world.hpp (shared with the fuzz target).
//
// Each step is a burst received on a port and/or a run of ipvs_expire() at
// some time, with the exact frames each port must send, the exact change
// of every counter and of every dest and service statistic. Expected
// frames come from PacketBuilder, which computes every checksum from
// scratch and shares no code with the dataplane; exact byte equality thus
// also checks the dataplane's incremental checksum updates.
//
// Everything here is inline in its own namespace: both test files include
// it, and a test file says `using namespace ipvsgold`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "frame_expect.hpp"
#include "ipvs_world.hpp"

namespace fulcrum::test::ipvsgold {

// ---- Expectations ----------------------------------------------------

using Deltas = std::vector<std::pair<Counter, uint64_t>>;

struct DestDelta {
  uint32_t id;
  DestStat stat;
  int64_t n;
};
struct SvcDelta {
  uint32_t id;
  ServiceStat stat;
  int64_t n;
};
// Changes of the worker's dest and service rows; every other cell must
// stay as it was.
struct Stats {
  std::vector<DestDelta> dest;
  std::vector<SvcDelta> svc;
};
inline Stats operator+(Stats a, const Stats& b) {
  a.dest.insert(a.dest.end(), b.dest.begin(), b.dest.end());
  a.svc.insert(a.svc.end(), b.svc.begin(), b.svc.end());
  return a;
}

// A new connection: counted, and inactive until established.
inline Stats opened(const Flow& f) {
  return {{{f.dest, DestStat::conns, 1}, {f.dest, DestStat::inactive, 1}},
          {{f.svc, ServiceStat::conns, 1}, {f.svc, ServiceStat::live, 1}}};
}
// One client packet of f seen (bytes: the IP packet's).
inline Stats in_pkt(const Flow& f, const Bytes& client_frame) {
  int64_t n = int64_t(client_frame.size() - kEthLen);
  return {{{f.dest, DestStat::inpkts, 1}, {f.dest, DestStat::inbytes, n}},
          {{f.svc, ServiceStat::inpkts, 1}, {f.svc, ServiceStat::inbytes, n}}};
}
// One reply of f seen.
inline Stats out_pkt(const Flow& f, const Bytes& dest_frame) {
  int64_t n = int64_t(dest_frame.size() - kEthLen);
  return {{{f.dest, DestStat::outpkts, 1}, {f.dest, DestStat::outbytes, n}},
          {{f.svc, ServiceStat::outpkts, 1}, {f.svc, ServiceStat::outbytes, n}}};
}
// The connection reached ESTABLISHED: inactive -> active.
inline Stats established(const Flow& f) {
  return {{{f.dest, DestStat::inactive, -1}, {f.dest, DestStat::active, 1}}, {}};
}
// The connection left ESTABLISHED.
inline Stats deactivated(const Flow& f) {
  return {{{f.dest, DestStat::active, -1}, {f.dest, DestStat::inactive, 1}}, {}};
}
// An inactive connection freed (expired or reused).
inline Stats freed(const Flow& f) {
  return {{{f.dest, DestStat::inactive, -1}}, {{f.svc, ServiceStat::live, -1}}};
}
// A half-open connection (the dest never answered) expired: freed, and
// counted against the dest for passive health checks.
inline Stats half_open_expired(const Flow& f) {
  return freed(f) + Stats{{{f.dest, DestStat::syn_timeouts, 1}}, {}};
}
// The dest refused the connection (RST before it answered the SYN).
inline Stats refused(const Flow& f) { return {{{f.dest, DestStat::resets, 1}}, {}}; }

struct Step {
  std::optional<uint64_t> at_ms;  // first set the IPVS clock (ms after the test's start)
  uint16_t port = 0;              // receiving port of the burst
  std::vector<Bytes> in;          // the burst (may be empty)
  bool expire = false;            // then run ipvs_expire()
  std::vector<Bytes> out0, out1;  // exact frames queued on each port, in order
  Deltas counters;                // every other counter must not move
                                  // (rx_packets/rx_bytes are added for bursts)
  Stats stats;
};

// ---- Fixture ---------------------------------------------------------

class IpvsGolden : public ::testing::Test, protected IpvsWorld {
 protected:
  void SetUp() override {
    leak_.emplace();
    std::string err;
    ASSERT_TRUE(build(err)) << err;
  }

  void TearDown() override {
    teardown();
    leak_.reset();  // every mbuf must be back in the pool
  }

  void make_ipvs(const IpvsConfig& cfg) {
    std::string err;
    ASSERT_TRUE(IpvsWorld::make_ipvs(cfg, err)) << err;
  }

  void switch_to(const SnapshotSpec& spec) {
    std::string err;
    ASSERT_TRUE(IpvsWorld::switch_to(spec, err)) << err;
  }

  void expect_frames(uint16_t port, const std::vector<Bytes>& want) {
    test::expect_frames(ctx_->tx, port, want);
  }

  void expect_counters(const LcoreCounters& before, const Deltas& want) {
    uint64_t expected[kCounterCount] = {};
    for (auto& [c, n] : want) expected[static_cast<size_t>(c)] += n;
    for (size_t i = 0; i < kCounterCount; i++)
      EXPECT_EQ(ctr_->v[i] - before.v[i], expected[i]) << "counter " << kCounterNames[i];
  }

  void expect_stats(const std::vector<DestStats>& dest_before,
                    const std::vector<ServiceStats>& svc_before, const Stats& want) {
    constexpr size_t nd = size_t(DestStat::count), ns = size_t(ServiceStat::count);
    std::vector<int64_t> d(dest_rows_.size() * nd), s(svc_rows_.size() * ns);
    for (auto& x : want.dest) d[x.id * nd + size_t(x.stat)] += x.n;
    for (auto& x : want.svc) s[x.id * ns + size_t(x.stat)] += x.n;
    for (size_t id = 0; id < dest_rows_.size(); id++)
      for (size_t k = 0; k < nd; k++)
        EXPECT_EQ(int64_t(dest_rows_[id].v[k] - dest_before[id].v[k]), d[id * nd + k])
            << "dest " << id << " " << kDestStatNames[k];
    for (size_t id = 0; id < svc_rows_.size(); id++)
      for (size_t k = 0; k < ns; k++)
        EXPECT_EQ(int64_t(svc_rows_[id].v[k] - svc_before[id].v[k]), s[id * ns + k])
            << "service " << id << " " << kServiceStatNames[k];
  }

  void run(const Step& st) {
    LcoreCounters before = *ctr_;
    std::vector<DestStats> dest_before = dest_rows_;
    std::vector<ServiceStats> svc_before = svc_rows_;
    Deltas want = st.counters;
    if (st.at_ms) at(*st.at_ms);
    if (!st.in.empty()) {
      uint64_t bytes = feed_burst(*ctx_, st.port, st.in);
      want.emplace_back(Counter::rx_packets, st.in.size());
      want.emplace_back(Counter::rx_bytes, bytes);
    }
    if (st.expire) ipvs_expire(*ctx_);
    expect_frames(0, st.out0);
    expect_frames(1, st.out1);
    expect_counters(before, want);
    expect_stats(dest_before, svc_before, st.stats);
  }

  void run(const std::vector<Step>& steps) {
    for (size_t i = 0; i < steps.size(); i++) {
      SCOPED_TRACE("step " + std::to_string(i));
      run(steps[i]);
    }
  }

  uint64_t dest_stat(uint32_t id, DestStat s) const { return dest_rows_[id].get(s); }

  // ---- Steps shared by several tests ----

  // f's SYN creates its connection and reaches f's dest (NAT).
  static Step nat_syn(const Flow& f) {
    Bytes in = f.c2v(kSyn);
    return Step{.in = {in},
                .out1 = {f.nat_to_dest(kSyn)},
                .counters = {{Counter::conns_created, 1}},
                .stats = opened(f) + in_pkt(f, in)};
  }
  // The dest's SYN-ACK goes back to the client from the VIP.
  static Step nat_syn_ack(const Flow& f) {
    Bytes in = f.d2c(kSyn | kAck);
    return Step{.port = 1, .in = {in}, .out0 = {f.nat_to_client(kSyn | kAck)},
                .stats = out_pkt(f, in)};
  }
  // A client packet of an existing NAT connection, forwarded; extra: what
  // else it changes (its state move).
  static Step nat_in(const Flow& f, uint8_t flags, Stats extra = {}) {
    Bytes in = f.c2v(flags);
    return Step{.in = {in}, .out1 = {f.nat_to_dest(flags)}, .stats = in_pkt(f, in) + extra};
  }
  static Step nat_out(const Flow& f, uint8_t flags, Stats extra = {}) {
    Bytes in = f.d2c(flags);
    return Step{.port = 1, .in = {in}, .out0 = {f.nat_to_client(flags)},
                .stats = out_pkt(f, in) + extra};
  }
  // The three-way handshake through NAT: ends ESTABLISHED.
  static std::vector<Step> nat_handshake(const Flow& f) {
    return {nat_syn(f), nat_syn_ack(f), nat_in(f, kAck, established(f))};
  }
  // Handshake, then the client closes first: FIN (-> CLOSE_WAIT), the
  // dest's FIN (-> TIME_WAIT), the client's last ACK (stays TIME_WAIT).
  static std::vector<Step> nat_to_time_wait(const Flow& f) {
    std::vector<Step> s = nat_handshake(f);
    s.push_back(nat_in(f, kFin | kAck, deactivated(f)));
    s.push_back(nat_out(f, kFin | kAck));
    s.push_back(nat_in(f, kAck));
    return s;
  }
  // A client packet with no connection behind it.
  static Step no_conn(const Flow& f, uint8_t flags) {
    return Step{.in = {f.c2v(flags)}, .counters = {{Counter::drop_no_conn, 1}}};
  }
  // ipvs_expire() at ms expires nothing.
  static Step nothing_expires_at(uint64_t ms) { return Step{.at_ms = ms, .expire = true}; }
  // ipvs_expire() at ms expires f's (inactive) connection.
  static Step expires_at(uint64_t ms, const Flow& f) {
    return Step{.at_ms = ms, .expire = true, .counters = {{Counter::conns_expired, 1}},
                .stats = freed(f)};
  }
  // The same for a connection the dest never answered (SYN_RECV).
  static Step half_open_expires_at(uint64_t ms, const Flow& f) {
    return Step{.at_ms = ms, .expire = true, .counters = {{Counter::conns_expired, 1}},
                .stats = half_open_expired(f)};
  }

  std::optional<PoolLeakCheck> leak_;
};

}  // namespace fulcrum::test::ipvsgold
