// SPDX-License-Identifier: Apache-2.0
//
// Fuzz target: the whole packet path with IPVS (process_burst), on the
// golden tests' world (test/support/ipvs_world.hpp): NAT, DR and TUN
// services, persistence, port-zero, a client behind a router.
//
// Every input starts from a fresh world in which a fixed prelude has
// opened connections in several states (an ESTABLISHED NAT flow, NAT in
// SYN_RECV, UDP, DR, TUN, two persistent services, a routed client), so
// that fuzzed packets meet existing connections from both sides, not
// only new ones. Then the input's records (fuzz_input.hpp) are fed as
// bursts, with time passing and the configuration changing where the
// input says. Each input is thus reproducible on its own.
//
// Beyond ASan and UBSan (with every byte past a received frame poisoned,
// rx_mbuf.hpp), it checks what must hold for any input: every frame
// sent leaves from its port's MAC and, if IPv4, has a correct header
// checksum and a total length equal to the frame's IP part (validation
// plus correct rewriting guarantee both); and at the end every mbuf of
// both pools is back (nothing leaked, nothing freed twice).
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <rte_ip.h>

#include "fuzz_input.hpp"
#include "rx_mbuf.hpp"
#include "harness.hpp"
#include "frame_checksums.hpp"
#include "ipvs_world.hpp"
#include "net/output.hpp"
#include "net/packet.hpp"

namespace fulcrum::fuzz {
namespace {

using namespace test;
using namespace test::ipvsgold;

const uint32_t kFarClient = ip("192.168.7.7");
// Small, so that inputs can fill the table (the prelude takes 10 entries:
// 8 connections, 2 persistence templates), and each input's fresh table
// is cheap to build.
constexpr uint32_t kMaxConns = 32;

// The flows a record's flow byte selects, as the prelude opens them (rr
// sends the routed client, the third web flow, back to the first dest).
const std::vector<Flow>& flows() {
  static const std::vector<Flow> f = {
      web_to_rs1(40000), web_to_rs2(40001), dns(5000), dr(40000), tun(40000),
      // Not web1's port: the same client port to the same dest port would
      // clash with web1's reply key (drop_conn_clash).
      Flow{IPPROTO_TCP, kVipSticky, 80, kRs1, kRs1Mac, 8080, 40003, kSvcSticky, kSticky1},
      Flow{IPPROTO_TCP, kVipAnyPort, 8443, kRs1, kRs1Mac, 8443, 40000, kSvcAnyPort, kAnyPort1},
      Flow{IPPROTO_TCP, kVip, 80, kRs1, kRs1Mac, 8080, 40002, kSvcWeb, kWeb1, kFarClient, kRouterMac},
  };
  return f;
}

// Rewrites the tuple of frame to flow's, in the direction port implies,
// where the frame has room for it (any protocol: the ports are the first
// four L4 bytes of TCP and UDP alike).
void set_tuple(std::vector<uint8_t>& f, uint16_t port, const Flow& flow) {
  constexpr size_t kIp = kEthLen;
  if (f.size() < kIp + 20) return;
  size_t l4 = kIp + size_t(f[kIp] & 0x0f) * 4;
  uint32_t src = port == 0 ? flow.caddr : flow.daddr, dst = port == 0 ? flow.vip : flow.caddr;
  uint16_t sport = htons(port == 0 ? flow.cport : flow.dport);
  uint16_t dport = htons(port == 0 ? flow.vport : flow.cport);
  std::memcpy(&f[kIp + 12], &src, 4);
  std::memcpy(&f[kIp + 16], &dst, 4);
  if (l4 + 4 > f.size()) return;
  std::memcpy(&f[l4], &sport, 2);
  std::memcpy(&f[l4 + 2], &dport, 2);
}

void check_output(const Bytes& f, const rte_ether_addr& port_mac) {
  if (f.size() < kEthLen) fail("sent a frame shorter than Ethernet");
  if (std::memcmp(&f[6], port_mac.addr_bytes, 6) != 0) fail("sent a frame not from the port's MAC");
  if (f[12] != 0x08 || f[13] != 0x00) return;  // ARP
  if (f.size() < kEthLen + 20) fail("sent an IPv4 frame without a whole header");
  const uint8_t* ip = &f[kEthLen];
  size_t ihl = size_t(ip[0] & 0x0f) * 4;
  if (ihl < 20 || kEthLen + ihl > f.size()) fail("sent an IPv4 header with a bad IHL");
  if (!ipv4_checksum_ok(ip, uint16_t(ihl))) fail("sent an IPv4 header with a bad checksum");
  if ((size_t(ip[2]) << 8 | ip[3]) != f.size() - kEthLen) fail("sent IPv4 total length != frame");
}

class Harness : public IpvsWorld {
 public:
  void run(const uint8_t* data, size_t size) {
    std::string err;
    if (!(snap_ ? start(err, kMaxConns) : build(err, kMaxConns))) fail(err.c_str());
    n_ = 0;
    clock_ = 0;
    reconfigure_ = false;
    now_ms_ = 0;
    prelude();
    size_t pos = 0;
    Record r;
    while (next_record(data, size, pos, r)) add(r);
    flush();
    stop();
    if (!rx_pool_full()) fail("received mbufs leaked");
    if (rte_mempool_avail_count(test_pool()) != test_pool_avail_) fail("originated mbufs leaked");
  }

  void remember_pool() { test_pool_avail_ = rte_mempool_avail_count(test_pool()); }

 private:
  // Opens the flows of flows(); each of its packets must be forwarded.
  void prelude() {
    const std::vector<Flow>& f = flows();
    const Flow &web1 = f[0], &dr1 = f[3];
    const std::vector<std::pair<uint16_t, Bytes>> steps = {
        {0, web1.c2v(kSyn)}, {1, web1.d2c(kSyn | kAck)}, {0, web1.c2v(kAck)},
        {0, f[1].c2v(kSyn)}, {0, f[2].c2v(0, data(20))}, {0, dr1.c2v(kSyn)}, {0, dr1.c2v(kAck)},
        {0, f[4].c2v(kSyn)}, {0, f[5].c2v(kSyn)}, {0, f[6].c2v(kSyn)}, {0, f[7].c2v(kSyn)}};
    for (const auto& [port, frame] : steps) {
      feed_burst(*ctx_, port, {frame});
      if (drain(0) + drain(1) != 1) fail("prelude: a packet was not forwarded");
    }
    if (ctr_->get(Counter::conns_created) != flows().size()) fail("prelude: a flow has no connection");
  }

  void add(const Record& r) {
    if (n_ > 0 && r.port() != port_) flush();
    std::vector<uint8_t> f(r.frame, r.frame + r.len);
    if (r.flow != 0) set_tuple(f, r.port(), flows()[(r.flow - 1) % flows().size()]);
    if (r.ctl & kCtlFixL4) fix_l4_checksum(f.data(), f.size());
    if (r.ctl & kCtlFixIp) fix_ip_checksum(f.data(), f.size());
    port_ = r.port();
    burst_[n_++] = test::rx_mbuf(f.data(), f.size(), r.split);
    clock_ = r.clock;
    reconfigure_ |= (r.ctl & kCtlReconfigure) != 0;
    if ((r.ctl & kCtlEndBurst) || n_ == kBurst) flush();
  }

  void flush() {
    if (n_ > 0) process_burst(*ctx_, port_, burst_, n_);
    n_ = 0;
    if (reconfigure_ && ctx_->snap == snap_.get()) {
      std::string err;
      if (!switch_to(ipvs_spec(/*web_weight1=*/0, /*sticky_weight1=*/0), err)) fail(err.c_str());
    }
    if (clock_ != 0) advance(uint64_t(1) << (clock_ % 25));
    clock_ = 0;
    reconfigure_ = false;
    drain(0);
    drain(1);
  }

  // Time passes: connection expiry and neighbour timers, as the worker loop.
  void advance(uint64_t ms) {
    now_ms_ += ms;
    at(now_ms_);
    ctx_->now += ms * ipvs_->tsc_per_ms;
    ipvs_expire(*ctx_);
    neigh_tick(*ctx_);
  }

  // Checks and frees what port sent; returns how many frames.
  size_t drain(uint16_t port) {
    std::vector<Bytes> out = take_output(port);
    for (const Bytes& f : out) check_output(f, ctx_->ports[port].mac);
    return out.size();
  }

  rte_mbuf* burst_[kBurst];
  uint16_t n_ = 0, port_ = 0;
  uint8_t clock_ = 0;
  bool reconfigure_ = false;
  uint64_t now_ms_ = 0;
  unsigned test_pool_avail_ = 0;
};

Harness* harness;

}  // namespace
}  // namespace fulcrum::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fulcrum::fuzz::init_or_exit("ipvs_fuzz");
  fulcrum::fuzz::harness = new fulcrum::fuzz::Harness();
  fulcrum::fuzz::harness->remember_pool();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fulcrum::fuzz::harness->run(data, size);
  return 0;
}
