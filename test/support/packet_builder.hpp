// SPDX-License-Identifier: Apache-2.0
//
// Test support: exact frames as byte vectors, and the glue between those
// vectors and mbufs. Free of GoogleTest, so that the fuzz targets (fuzz/)
// build their inputs and run them with the same code as the tests; the
// GoogleTest assertions over frames are in test/dataplane/frame_expect.hpp.
//
// PacketBuilder writes every header itself, with its own checksum code, so
// a test's expected bytes never depend on the dataplane code under test.
// Layers are described first and serialised by build(), which is when
// lengths, protocol numbers and checksums are filled in; any of them can
// be overridden to produce a deliberately broken frame.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "engine/worker_ctx.hpp"

namespace fulcrum::test {

using Bytes = std::vector<uint8_t>;
using Mac = std::array<uint8_t, 6>;

// "10.0.0.1" -> network-order uint32 (aborts the test binary on a typo).
uint32_t ip(const char* dotted);
// "02:00:00:00:00:01" -> the six bytes.
Mac mac(const char* colon_hex);
rte_ether_addr ether(const Mac& m);
// "0800 4500..." -> the bytes (spaces ignored; aborts the test binary on a
// typo), for frames kept exactly as a fuzzer found them.
Bytes hex_bytes(const char* hex);
Mac mac_of(const rte_ether_addr& a);

inline constexpr Mac kBroadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
inline constexpr Mac kZeroMac = {0, 0, 0, 0, 0, 0};

// One's-complement Internet checksum of data (RFC 1071), folded and
// inverted: the value to store in a checksum field.
uint16_t inet_checksum(const uint8_t* data, size_t len, uint32_t initial = 0);

// Unfolded sum of the pseudo-header that TCP and UDP checksums cover
// (addresses network order, len host order): inet_checksum's initial.
uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

namespace tcpflag {
inline constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;
}

class PacketBuilder {
 public:
  // Ethernet. The ethertype follows the next layer unless given here.
  PacketBuilder& eth(const Mac& src, const Mac& dst, std::optional<uint16_t> type = {});

  // IPv4 with TTL 64, id 0, no flags; setters below change one field.
  PacketBuilder& ipv4(uint32_t src, uint32_t dst);
  PacketBuilder& ttl(uint8_t v);
  PacketBuilder& tos(uint8_t v);                   // DSCP and ECN; 0 unless set
  PacketBuilder& ip_id(uint16_t v);
  PacketBuilder& frag(uint16_t flags_and_offset);  // host order, e.g. 0x2000 = MF
  PacketBuilder& ip_options(Bytes opts);           // length must be a multiple of 4
  PacketBuilder& ip_proto(uint8_t proto);          // instead of the L4 layer's
  PacketBuilder& ip_version(uint8_t v);
  PacketBuilder& ihl(uint8_t words);               // instead of the real one
  PacketBuilder& ip_total_length(uint16_t v);      // instead of the real one
  PacketBuilder& bad_ip_checksum();                // store the correct value ^ 0xffff

  // ICMP: echo request/reply, or any type with the 4 "rest of header" bytes.
  PacketBuilder& icmp_echo_request(uint16_t id, uint16_t seq);
  PacketBuilder& icmp_echo_reply(uint16_t id, uint16_t seq);
  PacketBuilder& icmp(uint8_t type, uint8_t code, uint32_t rest = 0);

  PacketBuilder& udp(uint16_t sport, uint16_t dport);
  PacketBuilder& udp_length(uint16_t v);           // instead of the real one

  PacketBuilder& tcp(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq = 0,
                     uint32_t ack = 0);
  PacketBuilder& tcp_data_off(uint8_t words);      // instead of 5
  PacketBuilder& tcp_options(Bytes opts);          // length a multiple of 4; data offset follows
  PacketBuilder& tcp_window(uint16_t v);           // instead of 8192

  // ARP for Ethernet/IPv4. Ethernet addresses come from eth().
  PacketBuilder& arp(uint16_t op, const Mac& sha, uint32_t sip, const Mac& tha, uint32_t tip);

  PacketBuilder& payload(Bytes data);
  PacketBuilder& payload_size(size_t n);           // n bytes of a counting pattern
  // Appends zeros after the packet until the frame is n bytes long, the way
  // Ethernet pads short frames (not counted in any length field).
  PacketBuilder& pad_to(size_t n);

  Bytes build() const;

 private:
  enum class L4 { kNone, kIcmp, kUdp, kTcp, kArp };
  struct EthPart {
    Mac src{}, dst{};
    std::optional<uint16_t> type;
  };
  struct IpPart {
    uint32_t src = 0, dst = 0;
    uint8_t ttl = 64;
    uint8_t tos = 0;
    uint16_t id = 0;
    uint16_t frag = 0;
    Bytes options;
    std::optional<uint8_t> proto, version, ihl;
    std::optional<uint16_t> total_length;
    bool bad_checksum = false;
  };
  struct L4Part {
    L4 kind = L4::kNone;
    uint8_t icmp_type = 0, icmp_code = 0;
    uint32_t icmp_rest = 0;
    uint16_t sport = 0, dport = 0;
    std::optional<uint16_t> udp_length;
    uint8_t tcp_flags = 0;
    uint32_t tcp_seq = 0, tcp_ack = 0;
    uint8_t tcp_doff = 5;
    Bytes tcp_opts;
    uint16_t tcp_window = 8192;
    uint16_t arp_op = 0;
    Mac sha{}, tha{};
    uint32_t sip = 0, tip = 0;
  };

  Bytes build_l4(const Bytes& payload) const;

  std::optional<EthPart> eth_;
  std::optional<IpPart> ip_;
  L4Part l4_;
  Bytes payload_;
  size_t pad_to_ = 0;
};

// Process-wide mbuf pool for tests (created on first use; no per-lcore
// cache so rte_mempool_avail_count is exact for leak checks).
rte_mempool* test_pool();
void free_test_pool();  // before rte_eal_cleanup

// A single-segment mbuf from the test pool holding exactly bytes.
rte_mbuf* mbuf_from(const Bytes& bytes);
// The whole packet data of m (all segments).
Bytes bytes_of(const rte_mbuf* m);

// Hex dump of both frames with differing bytes marked, for failure output.
std::string hex_diff(const Bytes& expected, const Bytes& actual);

// Runs frames through process_burst as one burst received on port;
// returns their total size (for the rx_bytes counter). Also writes them
// as fuzzing seeds when FULCRUM_SEED_DIR is set (seed_dump.hpp).
uint64_t feed_burst(WorkerCtx& ctx, uint16_t port, const std::vector<Bytes>& frames);

// Copies out and frees everything queued on port of a tx batch.
std::vector<Bytes> take_output(TxBatch& tx, uint16_t port);

// A unique name for DPDK objects (hashes, LPMs) created by tests.
std::string unique_name(const char* prefix);

}  // namespace fulcrum::test
