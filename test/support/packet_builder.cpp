// SPDX-License-Identifier: Apache-2.0
#include "packet_builder.hpp"

#include "engine/pipeline.hpp"
#include "seed_dump.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace fulcrum::test {
namespace {

constexpr uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17;

void put8(Bytes& b, uint8_t v) { b.push_back(v); }
void put16(Bytes& b, uint16_t v) {
  b.push_back(uint8_t(v >> 8));
  b.push_back(uint8_t(v));
}
void put32(Bytes& b, uint32_t v) {
  put16(b, uint16_t(v >> 16));
  put16(b, uint16_t(v));
}
// A network-order uint32 (as ip() returns) written as its bytes in memory.
void put_be32(Bytes& b, uint32_t net) {
  uint8_t raw[4];
  std::memcpy(raw, &net, 4);
  b.insert(b.end(), raw, raw + 4);
}
void put_mac(Bytes& b, const Mac& m) { b.insert(b.end(), m.begin(), m.end()); }
void set16(Bytes& b, size_t off, uint16_t v) {
  b[off] = uint8_t(v >> 8);
  b[off + 1] = uint8_t(v);
}

}  // namespace

uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len) {
  Bytes p;
  put_be32(p, src);
  put_be32(p, dst);
  put8(p, 0);
  put8(p, proto);
  put16(p, len);
  uint32_t sum = 0;
  for (size_t i = 0; i < p.size(); i += 2) sum += uint32_t(p[i]) << 8 | p[i + 1];
  return sum;
}

uint32_t ip(const char* dotted) {
  in_addr a{};
  if (inet_pton(AF_INET, dotted, &a) != 1)
    throw std::invalid_argument(std::string("bad IPv4 address in test: ") + dotted);
  return a.s_addr;
}

Mac mac(const char* colon_hex) {
  Mac m{};
  unsigned v[6];
  if (std::sscanf(colon_hex, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
    throw std::invalid_argument(std::string("bad MAC in test: ") + colon_hex);
  for (int i = 0; i < 6; i++) m[i] = uint8_t(v[i]);
  return m;
}

Bytes hex_bytes(const char* hex) {
  Bytes out;
  std::string digits;
  for (const char* p = hex; *p != '\0'; p++)
    if (*p != ' ') digits += *p;
  if (digits.size() % 2 != 0) throw std::invalid_argument("odd number of hex digits in test");
  for (size_t i = 0; i < digits.size(); i += 2) {
    size_t used = 0;
    unsigned long v = std::stoul(digits.substr(i, 2), &used, 16);
    if (used != 2) throw std::invalid_argument("bad hex in test: " + digits.substr(i, 2));
    out.push_back(uint8_t(v));
  }
  return out;
}

rte_ether_addr ether(const Mac& m) {
  rte_ether_addr a;
  std::memcpy(a.addr_bytes, m.data(), 6);
  return a;
}

Mac mac_of(const rte_ether_addr& a) {
  Mac m;
  std::memcpy(m.data(), a.addr_bytes, 6);
  return m;
}

uint16_t inet_checksum(const uint8_t* data, size_t len, uint32_t initial) {
  uint64_t sum = initial;
  for (size_t i = 0; i + 1 < len; i += 2) sum += uint32_t(data[i]) << 8 | data[i + 1];
  if (len & 1) sum += uint32_t(data[len - 1]) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}

PacketBuilder& PacketBuilder::eth(const Mac& src, const Mac& dst, std::optional<uint16_t> type) {
  eth_ = EthPart{src, dst, type};
  return *this;
}

PacketBuilder& PacketBuilder::ipv4(uint32_t src, uint32_t dst) {
  ip_ = IpPart{};
  ip_->src = src;
  ip_->dst = dst;
  return *this;
}

PacketBuilder& PacketBuilder::ttl(uint8_t v) { return ip_->ttl = v, *this; }
PacketBuilder& PacketBuilder::tos(uint8_t v) { return ip_->tos = v, *this; }
PacketBuilder& PacketBuilder::ip_id(uint16_t v) { return ip_->id = v, *this; }
PacketBuilder& PacketBuilder::frag(uint16_t v) { return ip_->frag = v, *this; }
PacketBuilder& PacketBuilder::ip_options(Bytes opts) { return ip_->options = std::move(opts), *this; }
PacketBuilder& PacketBuilder::ip_proto(uint8_t v) { return ip_->proto = v, *this; }
PacketBuilder& PacketBuilder::ip_version(uint8_t v) { return ip_->version = v, *this; }
PacketBuilder& PacketBuilder::ihl(uint8_t v) { return ip_->ihl = v, *this; }
PacketBuilder& PacketBuilder::ip_total_length(uint16_t v) { return ip_->total_length = v, *this; }
PacketBuilder& PacketBuilder::bad_ip_checksum() { return ip_->bad_checksum = true, *this; }

PacketBuilder& PacketBuilder::icmp(uint8_t type, uint8_t code, uint32_t rest) {
  l4_.kind = L4::kIcmp;
  l4_.icmp_type = type;
  l4_.icmp_code = code;
  l4_.icmp_rest = rest;
  return *this;
}
PacketBuilder& PacketBuilder::icmp_echo_request(uint16_t id, uint16_t seq) {
  return icmp(8, 0, uint32_t(id) << 16 | seq);
}
PacketBuilder& PacketBuilder::icmp_echo_reply(uint16_t id, uint16_t seq) {
  return icmp(0, 0, uint32_t(id) << 16 | seq);
}

PacketBuilder& PacketBuilder::udp(uint16_t sport, uint16_t dport) {
  l4_.kind = L4::kUdp;
  l4_.sport = sport;
  l4_.dport = dport;
  return *this;
}
PacketBuilder& PacketBuilder::udp_length(uint16_t v) { return l4_.udp_length = v, *this; }

PacketBuilder& PacketBuilder::tcp(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq,
                                  uint32_t ack) {
  l4_.kind = L4::kTcp;
  l4_.sport = sport;
  l4_.dport = dport;
  l4_.tcp_flags = flags;
  l4_.tcp_seq = seq;
  l4_.tcp_ack = ack;
  return *this;
}
PacketBuilder& PacketBuilder::tcp_data_off(uint8_t words) { return l4_.tcp_doff = words, *this; }
PacketBuilder& PacketBuilder::tcp_window(uint16_t v) { return l4_.tcp_window = v, *this; }
PacketBuilder& PacketBuilder::tcp_options(Bytes opts) {
  l4_.tcp_doff = uint8_t(5 + opts.size() / 4);
  l4_.tcp_opts = std::move(opts);
  return *this;
}

PacketBuilder& PacketBuilder::arp(uint16_t op, const Mac& sha, uint32_t sip, const Mac& tha,
                                  uint32_t tip) {
  l4_.kind = L4::kArp;
  l4_.arp_op = op;
  l4_.sha = sha;
  l4_.sip = sip;
  l4_.tha = tha;
  l4_.tip = tip;
  return *this;
}

PacketBuilder& PacketBuilder::payload(Bytes data) { return payload_ = std::move(data), *this; }
PacketBuilder& PacketBuilder::payload_size(size_t n) {
  payload_.resize(n);
  for (size_t i = 0; i < n; i++) payload_[i] = uint8_t(i * 7 + 1);
  return *this;
}
PacketBuilder& PacketBuilder::pad_to(size_t n) { return pad_to_ = n, *this; }

// The L4 header plus payload, checksummed.
Bytes PacketBuilder::build_l4(const Bytes& payload) const {
  Bytes b;
  uint32_t src = ip_ ? ip_->src : 0, dst = ip_ ? ip_->dst : 0;
  switch (l4_.kind) {
    case L4::kNone:
      break;
    case L4::kArp:
      put16(b, 1);       // Ethernet
      put16(b, 0x0800);  // IPv4
      put8(b, 6);
      put8(b, 4);
      put16(b, l4_.arp_op);
      put_mac(b, l4_.sha);
      put_be32(b, l4_.sip);
      put_mac(b, l4_.tha);
      put_be32(b, l4_.tip);
      break;
    case L4::kIcmp:
      put8(b, l4_.icmp_type);
      put8(b, l4_.icmp_code);
      put16(b, 0);
      put32(b, l4_.icmp_rest);
      b.insert(b.end(), payload.begin(), payload.end());
      set16(b, 2, inet_checksum(b.data(), b.size()));
      return b;
    case L4::kUdp: {
      uint16_t len = uint16_t(8 + payload.size());
      put16(b, l4_.sport);
      put16(b, l4_.dport);
      put16(b, l4_.udp_length.value_or(len));
      put16(b, 0);
      b.insert(b.end(), payload.begin(), payload.end());
      uint16_t c = inet_checksum(b.data(), b.size(), pseudo_sum(src, dst, kProtoUdp, len));
      set16(b, 6, c == 0 ? 0xffff : c);  // 0 means "no checksum" in UDP
      return b;
    }
    case L4::kTcp: {
      put16(b, l4_.sport);
      put16(b, l4_.dport);
      put32(b, l4_.tcp_seq);
      put32(b, l4_.tcp_ack);
      put8(b, uint8_t(l4_.tcp_doff << 4));
      put8(b, l4_.tcp_flags);
      put16(b, l4_.tcp_window);
      put16(b, 0);     // checksum
      put16(b, 0);     // urgent pointer
      b.insert(b.end(), l4_.tcp_opts.begin(), l4_.tcp_opts.end());
      b.insert(b.end(), payload.begin(), payload.end());
      set16(b, 16, inet_checksum(b.data(), b.size(),
                                 pseudo_sum(src, dst, kProtoTcp, uint16_t(b.size()))));
      return b;
    }
  }
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

Bytes PacketBuilder::build() const {
  Bytes l4 = build_l4(payload_);
  Bytes out;
  if (eth_) {
    put_mac(out, eth_->dst);
    put_mac(out, eth_->src);
    uint16_t type = l4_.kind == L4::kArp ? 0x0806 : ip_ ? 0x0800 : 0;
    put16(out, eth_->type.value_or(type));
  }
  if (ip_) {
    size_t start = out.size();
    size_t hdr_len = 20 + ip_->options.size();
    uint8_t proto = l4_.kind == L4::kIcmp  ? kProtoIcmp
                    : l4_.kind == L4::kUdp ? kProtoUdp
                    : l4_.kind == L4::kTcp ? kProtoTcp
                                           : 0;
    put8(out, uint8_t(ip_->version.value_or(4) << 4 | ip_->ihl.value_or(uint8_t(hdr_len / 4))));
    put8(out, ip_->tos);
    put16(out, ip_->total_length.value_or(uint16_t(hdr_len + l4.size())));
    put16(out, ip_->id);
    put16(out, ip_->frag);
    put8(out, ip_->ttl);
    put8(out, ip_->proto.value_or(proto));
    put16(out, 0);
    put_be32(out, ip_->src);
    put_be32(out, ip_->dst);
    out.insert(out.end(), ip_->options.begin(), ip_->options.end());
    uint16_t c = inet_checksum(out.data() + start, hdr_len);
    set16(out, start + 10, ip_->bad_checksum ? uint16_t(c ^ 0xffff) : c);
  }
  out.insert(out.end(), l4.begin(), l4.end());
  if (out.size() < pad_to_) out.resize(pad_to_, 0);
  return out;
}

namespace {
rte_mempool* g_pool = nullptr;  // see test_pool()
}  // namespace

rte_mempool* test_pool() {
  if (g_pool == nullptr) {
    g_pool = rte_pktmbuf_pool_create("fulcrum_test_pool", 2047, 0, 0,
                                     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (g_pool == nullptr) throw std::runtime_error("cannot create the test mbuf pool");
  }
  return g_pool;
}

void free_test_pool() {
  rte_mempool_free(g_pool);
  g_pool = nullptr;
}

rte_mbuf* mbuf_from(const Bytes& bytes) {
  rte_mbuf* m = rte_pktmbuf_alloc(test_pool());
  if (m == nullptr) throw std::runtime_error("test pool empty");
  char* p = rte_pktmbuf_append(m, uint16_t(bytes.size()));
  if (p == nullptr) {
    rte_pktmbuf_free(m);
    throw std::runtime_error("frame does not fit in one mbuf");
  }
  if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());  // data() may be null
  return m;
}

Bytes bytes_of(const rte_mbuf* m) {
  Bytes out(rte_pktmbuf_pkt_len(m));
  const void* p = rte_pktmbuf_read(m, 0, uint32_t(out.size()), out.data());
  if (p != out.data() && !out.empty()) std::memcpy(out.data(), p, out.size());
  return out;
}

std::string hex_diff(const Bytes& expected, const Bytes& actual) {
  std::ostringstream os;
  char buf[24];
  size_t n = std::max(expected.size(), actual.size());
  os << "expected " << expected.size() << " bytes, actual " << actual.size()
     << " bytes (differences marked ^^)\n";
  auto cell = [&](const Bytes& b, size_t i) {
    if (i >= b.size()) return std::string("--");
    std::snprintf(buf, sizeof(buf), "%02x", b[i]);
    return std::string(buf);
  };
  for (size_t row = 0; row < n; row += 16) {
    std::string e, a, mark;
    bool differs = false;
    for (size_t i = row; i < row + 16 && i < n; i++) {
      bool d = i >= expected.size() || i >= actual.size() || expected[i] != actual[i];
      differs |= d;
      e += ' ';  // appended piecewise: "x" + std::string trips GCC 12's -Wrestrict
      e += cell(expected, i);
      a += ' ';
      a += cell(actual, i);
      mark += d ? " ^^" : "   ";
    }
    std::snprintf(buf, sizeof(buf), "%04zx", row);
    os << buf << " exp" << e << "\n     act" << a << "\n";
    if (differs) os << "        " << mark << "\n";
  }
  return os.str();
}

std::string unique_name(const char* prefix) {
  static unsigned n = 0;
  return std::string(prefix) + std::to_string(n++);
}

uint64_t feed_burst(WorkerCtx& ctx, uint16_t port, const std::vector<Bytes>& frames) {
  dump_seeds(port, frames);
  std::vector<rte_mbuf*> burst;
  uint64_t bytes = 0;
  for (const Bytes& f : frames) {
    burst.push_back(mbuf_from(f));
    bytes += f.size();
  }
  process_burst(ctx, port, burst.data(), uint16_t(burst.size()));
  return bytes;
}

std::vector<Bytes> take_output(TxBatch& tx, uint16_t port) {
  std::vector<Bytes> out;
  for (uint16_t i = 0; i < tx.n[port]; i++) {
    out.push_back(bytes_of(tx.pkts[port][i]));
    rte_pktmbuf_free(tx.pkts[port][i]);
  }
  tx.n[port] = 0;
  return out;
}

}  // namespace fulcrum::test
