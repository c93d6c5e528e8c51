// SPDX-License-Identifier: Apache-2.0
//
// Fuzz target: the packet parser and validator (net/packet.cpp).
//
// Input: split:u8 frame (fuzz_input.hpp). The frame is parsed as received,
// in one segment or two, with ASan watching every byte past its end
// (rx_mbuf.hpp). Beyond memory safety, what parse_packet() promises the
// rest of the pipeline is checked independently of how it is implemented:
// a frame it accepts has whole, consistent headers where later stages read
// them, and a frame it refuses names a drop_* counter.
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <rte_ether.h>
#include <rte_ip.h>

#include "engine/counters.hpp"
#include "fuzz_input.hpp"
#include "rx_mbuf.hpp"
#include "harness.hpp"
#include "net/packet.hpp"

namespace fulcrum::fuzz {
namespace {

uint16_t be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

// The L4 header a kIpv4 packet promises: present in the first segment,
// TCP data offset and UDP length consistent with the IP payload.
void check_l4(const rte_mbuf* m, const PacketMeta& meta) {
  const uint8_t* l4 = rte_pktmbuf_mtod_offset(m, const uint8_t*, meta.l4_off);
  size_t min = meta.l4_proto == IPPROTO_TCP ? 20 : 8;
  check(meta.l4_proto == IPPROTO_TCP || meta.l4_proto == IPPROTO_UDP ||
            meta.l4_proto == IPPROTO_ICMP, "accepted an L4 protocol other than TCP/UDP/ICMP");
  check(meta.l4_off + min <= m->data_len, "L4 header not whole in the first segment");
  check(meta.l4_len >= min, "L4 length below its header");
  if (meta.l4_proto == IPPROTO_TCP) {
    size_t doff = size_t(l4[12] >> 4) * 4;
    check(doff >= 20 && doff <= meta.l4_len, "TCP data offset outside the segment");
  }
  if (meta.l4_proto == IPPROTO_UDP) check(be16(l4 + 4) == meta.l4_len, "UDP length != IP payload");
}

void check_ipv4(const rte_mbuf* m, const PacketMeta& meta) {
  check(meta.l3_off == sizeof(rte_ether_hdr), "IPv4 not right after Ethernet");
  check(m->data_len >= meta.l3_off + 20, "IPv4 header not in the first segment");
  const uint8_t* ip = rte_pktmbuf_mtod_offset(m, const uint8_t*, meta.l3_off);
  size_t ihl = size_t(ip[0] & 0x0f) * 4;
  check(ip[0] >> 4 == 4 && ihl >= 20, "bad version or IHL accepted");
  check(meta.l3_off + ihl <= m->data_len, "IPv4 options not in the first segment");
  check(ipv4_checksum_ok(ip, uint16_t(ihl)), "bad IPv4 header checksum accepted");
  check((be16(ip + 6) & 0x3fff) == 0, "fragment accepted");
  size_t total = be16(ip + 2);
  check(m->pkt_len == meta.l3_off + total, "packet not trimmed to the IP total length");
  check(meta.l4_off == meta.l3_off + ihl && meta.l4_len == total - ihl, "L4 offset/length wrong");
  check(meta.l4_proto == ip[9], "L4 protocol not the header's");
  check_l4(m, meta);
}

void check_meta(const rte_mbuf* m, PacketKind kind, const PacketMeta& meta) {
  switch (kind) {
    case PacketKind::kIpv4: return check_ipv4(m, meta);
    case PacketKind::kArp:
      return check(m->data_len >= meta.l3_off + 28, "ARP body not whole in the first segment");
    case PacketKind::kDrop:
      return check(meta.drop < Counter::count &&
                       std::strncmp(kCounterNames[size_t(meta.drop)], "drop_", 5) == 0,
                   "refusal names no drop_* counter");
  }
}

}  // namespace
}  // namespace fulcrum::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fulcrum::fuzz::init_or_exit("parse_fuzz");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fulcrum;
  if (size < 1) return 0;
  size_t len = size - 1 < fuzz::kMaxFrame ? size - 1 : fuzz::kMaxFrame;
  rte_mbuf* m = test::rx_mbuf(data + 1, len, data[0]);
  PacketMeta meta;
  PacketKind kind = parse_packet(m, meta);
  fuzz::check(kind == meta.kind, "returned kind differs from meta.kind");
  fuzz::check_meta(m, kind, meta);
  rte_pktmbuf_free(m);
  fuzz::check(test::rx_pool_full(), "received mbufs leaked");
  return 0;
}
