// SPDX-License-Identifier: Apache-2.0
//
// fastpath: throughput of the real worker loop, one port, no NIC.
//
// The engine runs exactly as in production (EAL, Engine::start, a published
// snapshot, worker_main on every EAL worker lcore) on a net_pcap port that
// replays a capture forever (infinite_rx=1) and drops what is sent (no
// tx_pcap), which is also what dpdk-testpmd is given in bench/run.sh, so the
// ratio between the two is the cost of Fulcrum's packet path over a bare
// rx/tx loop.
//
// Workloads (--workload):
//
//   echo  ICMP echo to an owned address: parse + validate + classify + echo
//         reply + route lookup + neighbour lookup + Ethernet rewrite + tx.
//         The capture is one ARP reply from the peer (10.0.0.1), then
//         --frames echo requests.
//   nat   IPVS forwarding of established TCP connections to a service
//   dr    10.0.0.100:80 with 4 dests (10.0.0.11-14, scheduler rr) in that
//   tun   mode (fullnat: as nat, from a local address): connection lookup
//         + TCP state + NAT rewrite / DR MAC
//         rewrite / IP-in-IP encapsulation + route + neighbour + tx. The
//         capture is a block of 8 ARP replies (the gateway 10.0.0.1 and the
//         4 dests, so every neighbour is learned from the wire; the
//         gateway's three times more to keep the block a multiple of 4),
//         then --flows TCP flows from routed clients 172.16.x.y, 4 packets
//         each, in 4 phases: every flow's SYN, then every flow's second
//         packet, and so on, each phase in its own shuffled order, so a
//         flow's packets follow its SYN and the connection objects are not
//         visited in allocation order. nat: SYN, SYN-ACK from the dest, a
//         6-byte data segment each way (half the packets are replies
//         through the balancer); dr/tun: SYN, ACK, two data segments. The
//         first replay round creates the connections and takes them to
//         ESTABLISHED; from then on every packet, the SYNs included
//         (INPUT syn in ESTABLISHED stays ESTABLISHED), is a hit on an
//         established connection.
//
// NAT replies must come from the dest the scheduler picked. rr hands a
// worker's new connections to the dests in turn, starting with dest 0 on
// worker 0, and the capture is written so that the flow at position p of
// the SYN phase gets dest p mod 4. That holds however the replay and the
// snapshot switch line up: net_pcap's infinite rx always returns full
// bursts of 32, a worker switches snapshots only between bursts, and the
// ARP block, the SYN phase and the whole round are multiples of 4 frames,
// so the first SYN the new snapshot sees sits at a position that is a
// multiple of 4 and the rotation lines up with the capture. (So: one
// worker for nat.) fullnat is nat whose dest answers a local address: the
// flow at SYN position p leaves from 10.0.0.50 + p mod n, port 1025 + p / n
// (n local addresses: 2, or as many as the flows need),
// which needs the whole first SYN phase seen in order: the snapshot is
// published before the workers start.
//
//   fastpath --write-pcap FILE [--workload W] [--flows N] [--frames N]
//   fastpath [--workload W] [--flows N] [--duration S] [--warmup S]
//            [--lcores L] [--mbufs N] (--vdev STR | --pcap FILE)
//            [-- extra EAL args]
//
// The last line of a run is machine-readable ("RESULT fastpath ...") for
// bench/run.sh. Exit status: 0 measured and sane, 1 the checks failed (no
// replies, drops, tx far from rx, connections not as expected), 2 usage
// or start-up errors.

#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>

#include "ctrl/snapshot_build.hpp"
#include "engine/counters.hpp"
#include "engine/eal.hpp"
#include "engine/engine.hpp"
#include "ipvs/stats.hpp"
#include "frames.hpp"

namespace {

using namespace fulcrum::bench;
using fulcrum::Counter;
using fulcrum::kCounterCount;
using fulcrum::kCounterNames;

// The bench's little network: we are 10.0.0.2/24 on port 0, the peer
// (echo client and default gateway) is 10.0.0.1, the dests are 10.0.0.11
// to 10.0.0.14 and the IPVS clients 172.16.x.y, routed via 10.0.0.1.
constexpr const char* kOurIp = "10.0.0.2";
constexpr const char* kPeerIp = "10.0.0.1";
constexpr const char* kVip = "10.0.0.100";
constexpr uint16_t kVport = 80;
constexpr uint16_t kNatDestPort = 8080;  // NAT rewrites the port too; DR/TUN keep 80
constexpr uint32_t kDests = 4;
// Data room that holds every frame of a capture (60 bytes, 80 with TUN's outer header) after the headroom.
constexpr uint16_t kMinMbufSize = 256;
constexpr uint32_t kDestBase = 11;       // 10.0.0.11 + k
constexpr uint32_t kClientNet = 0xac100000;  // 172.16.0.0, host order
constexpr uint8_t kPeerMac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
// Frames are addressed to the MAC net_pcap gives its first port
// ("\x02pcap" + index). Fulcrum does not filter on it (the port is
// promiscuous), but an honest capture says who it is for; the run prints
// the port's MAC so a mismatch is visible.
constexpr uint8_t kOurMac[6] = {0x02, 0x70, 0x63, 0x61, 0x70, 0x00};
constexpr uint32_t kArpBlock = 8;     // ARP replies at the head of an IPVS capture
constexpr uint32_t kPktsPerFlow = 4;
constexpr uint32_t kDataLen = 6;      // TCP payload that fills a 60-byte frame exactly

enum class Workload { kEcho, kNat, kDr, kTun, kFullnat, kFlood };

const char* workload_name(Workload w) {
  switch (w) {
    case Workload::kEcho: return "echo";
    case Workload::kNat: return "nat";
    case Workload::kFullnat: return "fullnat";
    case Workload::kFlood: return "flood";
    case Workload::kDr: return "dr";
    case Workload::kTun: return "tun";
  }
  return "?";
}

bool is_ipvs(Workload w) { return w != Workload::kEcho; }
// The modes whose replies come back through the balancer, and which
// rewrite the dest port.
bool has_replies(Workload w) { return w == Workload::kNat || w == Workload::kFullnat; }

// FULLNAT: local addresses from 10.0.0.50, two of them, or as many more as
// the flows need (each has the 64,511 ports of the default range). With one
// worker the pool hands them out in turn and each one's ports in order
// from 1025, so the flow at position p of the SYN phase leaves from laddr
// p mod n, port 1025 + p / n.
constexpr uint32_t kLportsPerLaddr = 65535 - 1025 + 1;
uint32_t laddr_count(uint32_t flows) { return std::max(2u, (flows + kLportsPerLaddr - 1) / kLportsPerLaddr); }
uint32_t laddr_ip_be(uint32_t p, uint32_t n) { return htonl(0x0a000032u + p % n); }
uint16_t lport_of(uint32_t p, uint32_t n) { return uint16_t(1025 + p / n); }

uint32_t ip_be(const char* s) {
  in_addr a{};
  inet_pton(AF_INET, s, &a);
  return a.s_addr;
}

uint32_t dest_ip_be(uint32_t k) { return htonl(0x0a000000u | (kDestBase + k)); }

std::array<uint8_t, 6> dest_mac(uint32_t k) {
  return {0x02, 0x00, 0x00, 0x00, 0x00, uint8_t(kDestBase + k)};
}

// Frames in an IPVS capture: the ARP block and 4 packets per flow.
uint64_t ipvs_frames(uint32_t flows) { return kArpBlock + uint64_t(kPktsPerFlow) * flows; }

// ---------------------------------------------------------------- capture

// An ARP reply to us (10.0.0.2) from sender_ip at sender_mac.
Frame arp_reply_frame(const uint8_t* sender_mac, uint32_t sender_ip_be) {
  Frame f(kFrameLen, 0);  // ARP body is 28 bytes: zero padding
  std::memcpy(&f[0], kOurMac, 6);
  std::memcpy(&f[6], sender_mac, 6);
  put16(&f[12], 0x0806);
  uint8_t* a = &f[14];
  put16(a + 0, 1);       // Ethernet
  put16(a + 2, 0x0800);  // IPv4
  a[4] = 6, a[5] = 4;
  put16(a + 6, 2);       // reply
  std::memcpy(a + 8, sender_mac, 6);
  put32be(a + 14, sender_ip_be);
  std::memcpy(a + 18, kOurMac, 6);
  put32be(a + 24, ip_be(kOurIp));
  return f;
}

// Echo request number i: 20-byte IP header, 8-byte ICMP header, 18 bytes
// of payload, so the frame is exactly 60 bytes and carries no padding.
Frame echo_frame(uint32_t i) {
  Frame f(kFrameLen, 0);
  std::memcpy(&f[0], kOurMac, 6);
  std::memcpy(&f[6], kPeerMac, 6);
  put16(&f[12], 0x0800);
  uint8_t* ip = &f[14];
  ip[0] = 0x45;
  put16(ip + 2, uint16_t(kFrameLen - 14));
  put16(ip + 4, uint16_t(i));  // IP id
  ip[8] = 64;                  // TTL
  ip[9] = 1;                   // ICMP
  put32be(ip + 12, ip_be(kPeerIp));
  put32be(ip + 16, ip_be(kOurIp));
  put16(ip + 10, inet_csum(ip, 20));
  uint8_t* icmp = ip + 20;
  icmp[0] = 8;                             // echo request
  put16(icmp + 4, uint16_t(0x100 + i / 64));  // identifier: 16 "pings"...
  put16(icmp + 6, uint16_t(i % 64));          // ...of 64 sequence numbers each
  for (size_t k = 8; k < kFrameLen - 34; k++) icmp[k] = uint8_t(i * 31 + k);
  put16(icmp + 2, inet_csum(icmp, kFrameLen - 34));
  return f;
}

Frame tcp_frame(const TcpSeg& s) { return fulcrum::bench::tcp_frame(s, kOurMac); }

// Flow i's client: 172.16.0.1 upwards, 16384 addresses, then the next
// source port.
uint32_t client_ip_be(uint32_t i) { return htonl(kClientNet + (i & 0x3fff) + 1); }
uint16_t client_port(uint32_t i) { return uint16_t(1024 + (i >> 14)); }

// Packet k (0..3) of flow i, whose SYN was at position p of the SYN phase
// and whose connection goes to dest d (from one of `laddrs` local addresses
// in FULLNAT).
Frame ipvs_frame(Workload w, uint32_t i, uint32_t k, uint32_t p, uint32_t d, uint32_t laddrs, uint16_t ip_id) {
  uint32_t cseq = 0x10000000u + i * 7919u, dseq = 0x60000000u + i * 104729u;
  TcpSeg c{kPeerMac, client_ip_be(i), ip_be(kVip), client_port(i), kVport, 0, cseq, 0, 0, ip_id};
  std::array<uint8_t, 6> dmac = dest_mac(d);
  bool fnat = w == Workload::kFullnat;  // the dest answers the local address
  TcpSeg r{dmac.data(), dest_ip_be(d), fnat ? laddr_ip_be(p, laddrs) : client_ip_be(i), kNatDestPort,
           fnat ? lport_of(p, laddrs) : client_port(i), 0, dseq, 0, 0, ip_id};
  if (w == Workload::kFlood) {  // only SYNs, from 4 ports of each client
    c.sport = uint16_t(c.sport + 16384 * k);
    c.flags = kSyn;
    return tcp_frame(c);
  }
  if (k == 0) {  // the client's SYN
    c.flags = kSyn;
    return tcp_frame(c);
  }
  if (has_replies(w)) {
    if (k == 1) {  // the dest's SYN-ACK, through the balancer
      r.flags = kSyn | kAck, r.ack = cseq + 1;
      return tcp_frame(r);
    }
    if (k == 2) {  // the client's first data (and the handshake's ACK)
      c.flags = kPsh | kAck, c.seq = cseq + 1, c.ack = dseq + 1, c.payload = kDataLen;
      return tcp_frame(c);
    }
    r.flags = kPsh | kAck, r.seq = dseq + 1, r.ack = cseq + 1 + kDataLen, r.payload = kDataLen;
    return tcp_frame(r);
  }
  // DR/TUN: the balancer sees the client's side only.
  c.seq = cseq + 1 + (k == 3 ? kDataLen : 0);
  c.ack = dseq + 1;
  c.flags = k == 1 ? kAck : kPsh | kAck;
  c.payload = k == 1 ? 0 : kDataLen;
  return tcp_frame(c);
}

// A fixed shuffle of 0..n-1 (xorshift64 + Fisher-Yates): the same capture
// on every machine and build.
std::vector<uint32_t> shuffled(uint32_t n, uint64_t seed) {
  std::vector<uint32_t> v(n);
  std::iota(v.begin(), v.end(), 0u);
  uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
  for (uint32_t i = n; i > 1; i--) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    std::swap(v[i - 1], v[uint32_t(x % i)]);
  }
  return v;
}

class PcapWriter {
 public:
  explicit PcapWriter(const std::string& path) : path_(path), f_(std::fopen(path.c_str(), "wb")) {
    if (f_ == nullptr) {
      std::perror(path.c_str());
      return;
    }
    struct {
      uint32_t magic = 0xa1b2c3d4;
      uint16_t major = 2, minor = 4;
      int32_t zone = 0;
      uint32_t sigfigs = 0, snaplen = 65535, linktype = 1;  // Ethernet
    } hdr;
    ok_ = std::fwrite(&hdr, sizeof(hdr), 1, f_) == 1;
  }
  void add(const Frame& fr) {
    if (!ok_) return;
    uint32_t rec[4] = {uint32_t(n_ / 1000000), uint32_t(n_ % 1000000), uint32_t(fr.size()),
                       uint32_t(fr.size())};
    ok_ = std::fwrite(rec, sizeof(rec), 1, f_) == 1 && std::fwrite(fr.data(), fr.size(), 1, f_) == 1;
    n_++;
  }
  bool close() {
    if (f_ == nullptr) return false;
    if (std::fclose(f_) != 0) ok_ = false;
    f_ = nullptr;
    if (!ok_) std::fprintf(stderr, "fastpath: cannot write %s\n", path_.c_str());
    return ok_;
  }
  ~PcapWriter() { if (f_ != nullptr) std::fclose(f_); }

 private:
  std::string path_;
  FILE* f_;
  bool ok_ = false;
  uint64_t n_ = 0;
};

bool write_echo_pcap(const std::string& path, uint32_t frames) {
  PcapWriter w(path);
  w.add(arp_reply_frame(kPeerMac, ip_be(kPeerIp)));
  for (uint32_t i = 0; i < frames; i++) w.add(echo_frame(i));
  return w.close();
}

bool write_ipvs_pcap(const std::string& path, Workload wl, uint32_t flows) {
  PcapWriter w(path);
  for (uint32_t k = 0; k < kArpBlock; k++) {
    if (k >= 1 && k <= kDests) {
      std::array<uint8_t, 6> mac = dest_mac(k - 1);
      w.add(arp_reply_frame(mac.data(), dest_ip_be(k - 1)));
    } else {
      w.add(arp_reply_frame(kPeerMac, ip_be(kPeerIp)));
    }
  }
  // The SYN phase fixes each flow's dest (position mod 4, see the top).
  std::vector<uint32_t> syn_pos(flows);
  const uint32_t laddrs = laddr_count(flows);
  uint16_t ip_id = 0;
  for (uint32_t k = 0; k < kPktsPerFlow; k++) {
    std::vector<uint32_t> order = shuffled(flows, k + 1);
    for (uint32_t p = 0; p < flows; p++) {
      uint32_t i = order[p];
      if (k == 0) syn_pos[i] = p;
      w.add(ipvs_frame(wl, i, k, syn_pos[i], syn_pos[i] % kDests, laddrs, ip_id++));
    }
  }
  return w.close();
}

// Frames in a classic pcap file (what net_pcap will load into mbufs), or
// -1 when it is not one.
int64_t pcap_count(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return -1;
  uint32_t hdr[6];
  int64_t n = -1;
  if (std::fread(hdr, sizeof(hdr), 1, f) == 1 && hdr[0] == 0xa1b2c3d4) {
    uint32_t rec[4];
    n = 0;
    while (std::fread(rec, sizeof(rec), 1, f) == 1 && std::fseek(f, long(rec[2]), SEEK_CUR) == 0) n++;
  }
  std::fclose(f);
  return n;
}

// ---------------------------------------------------------------- run

struct Options {
  Workload workload = Workload::kEcho;
  uint32_t flows = 1024;
  double duration = 5.0;
  double warmup = 1.0;
  std::string lcores = "0,1";
  std::string vdev;
  std::string pcap;  // --pcap, to count its frames
  uint32_t mbufs = 0;  // 0: from the capture's size
  uint16_t mbuf_size = RTE_MBUF_DEFAULT_BUF_SIZE;  // data room, headroom included
  std::vector<std::string> eal_extra;
  std::string write_pcap;
  uint32_t frames = 1024;
};

[[noreturn]] void usage(const char* why) {
  if (why != nullptr) std::fprintf(stderr, "fastpath: %s\n", why);
  std::fprintf(stderr,
               "usage: fastpath --write-pcap FILE [--workload echo|nat|dr|tun|fullnat|flood] [--flows N] [--frames N]\n"
               "       fastpath [--workload echo|nat|dr|tun|fullnat|flood] [--flows N] [--duration S] [--warmup S]\n"
               "                [--lcores LIST] [--mbufs N] [--mbuf-size N] (--vdev DEVARGS | --pcap FILE) [-- EAL args...]\n"
               "  --frames: echo requests in an echo capture (1..65536, default 1024)\n"
               "  --flows:  TCP flows in a nat/dr/tun capture (a multiple of 4, 8..1048576, default 1024);\n"
               "            the run must be given the same --workload and --flows as the capture\n"
               "  --mbuf-size: bytes of data room per mbuf, headroom included (default %u); the port's MTU\n"
               "            shrinks to fit: at 256 the 4.2M frames of a 1M-flow capture take ~1.9 GB\n",
               unsigned(RTE_MBUF_DEFAULT_BUF_SIZE));
  std::exit(2);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    if (a == "--") {
      o.eal_extra.assign(argv + i + 1, argv + argc);
      break;
    } else if (a == "--workload") {
      std::string w = value();
      if (w == "echo") o.workload = Workload::kEcho;
      else if (w == "nat") o.workload = Workload::kNat;
      else if (w == "fullnat") o.workload = Workload::kFullnat;
      else if (w == "flood") o.workload = Workload::kFlood;
      else if (w == "dr") o.workload = Workload::kDr;
      else if (w == "tun") o.workload = Workload::kTun;
      else usage(("unknown workload " + w).c_str());
    } else if (a == "--flows") {
      o.flows = uint32_t(std::strtoul(value().c_str(), nullptr, 0));
    } else if (a == "--duration") {
      o.duration = std::atof(value().c_str());
    } else if (a == "--warmup") {
      o.warmup = std::atof(value().c_str());
    } else if (a == "--lcores" || a == "-l") {
      o.lcores = value();
    } else if (a == "--vdev") {
      o.vdev = value();
    } else if (a == "--pcap") {
      o.pcap = value();
      o.vdev = "net_pcap0,rx_pcap=" + o.pcap + ",infinite_rx=1";
    } else if (a == "--mbufs") {
      o.mbufs = uint32_t(std::strtoul(value().c_str(), nullptr, 0));
    } else if (a == "--mbuf-size") {
      o.mbuf_size = uint16_t(std::min(65535ul, std::strtoul(value().c_str(), nullptr, 0)));
    } else if (a == "--write-pcap") {
      o.write_pcap = value();
    } else if (a == "--frames") {
      o.frames = uint32_t(std::atoi(value().c_str()));
    } else if (a == "-h" || a == "--help") {
      usage(nullptr);
    } else {
      usage(("unknown argument " + a).c_str());
    }
  }
  if (o.write_pcap.empty() && o.vdev.empty()) usage("give --vdev or --pcap");
  if (o.duration <= 0 || o.warmup < 0) usage("bad --duration or --warmup");
  if (o.frames == 0 || o.frames > 65536) usage("--frames must be 1..65536");
  if (o.flows < 8 || o.flows > (1u << 20) || o.flows % kDests != 0)
    usage("--flows must be a multiple of 4 in 8..1048576");
  if (o.mbuf_size < kMinMbufSize) usage("--mbuf-size must hold a capture's frames: at least 256");
  return o;
}

using Sample = std::vector<std::array<uint64_t, kCounterCount>>;

// The workers write their blocks without atomics; an aligned 64-bit load
// never tears, and a relaxed atomic load says so to the compiler.
uint64_t load(const uint64_t& v) { return __atomic_load_n(&v, __ATOMIC_RELAXED); }

Sample sample(const fulcrum::Engine& e) {
  Sample s(e.workers());
  for (uint32_t w = 0; w < e.workers(); w++)
    for (size_t c = 0; c < kCounterCount; c++) s[w][c] = load(e.counters()[w].v[c]);
  return s;
}

// The bench service's statistics summed over the workers.
struct IpvsSample {
  uint64_t svc_in = 0, svc_out = 0;
  std::vector<uint64_t> fwd;  // in + out, per worker
  std::array<uint64_t, kDests> conns{}, active{}, inactive{};
};

IpvsSample ipvs_sample(const fulcrum::Engine& e) {
  using fulcrum::DestStat;
  using fulcrum::ServiceStat;
  IpvsSample s;
  const fulcrum::IpvsConfig& cfg = e.ipvs_config();
  for (uint32_t w = 0; w < e.workers(); w++) {
    const fulcrum::ServiceStats& sv = e.service_stats()[size_t(w) * cfg.max_services];  // id 0
    uint64_t in = load(sv.v[size_t(ServiceStat::inpkts)]), out = load(sv.v[size_t(ServiceStat::outpkts)]);
    s.svc_in += in;
    s.svc_out += out;
    s.fwd.push_back(in + out);
    for (uint32_t d = 0; d < kDests; d++) {
      const fulcrum::DestStats& ds = e.dest_stats()[size_t(w) * cfg.max_dests + d];
      s.conns[d] += load(ds.v[size_t(DestStat::conns)]);
      s.active[d] += load(ds.v[size_t(DestStat::active)]);
      s.inactive[d] += load(ds.v[size_t(DestStat::inactive)]);
    }
  }
  return s;
}

std::string mac_str(const rte_ether_addr& m) {
  char b[18];
  std::snprintf(b, sizeof(b), "%02x:%02x:%02x:%02x:%02x:%02x", m.addr_bytes[0], m.addr_bytes[1],
                m.addr_bytes[2], m.addr_bytes[3], m.addr_bytes[4], m.addr_bytes[5]);
  return b;
}

size_t idx(Counter c) { return static_cast<size_t>(c); }

fulcrum::SnapshotSpec make_spec(const Options& o) {
  fulcrum::SnapshotSpec spec;
  spec.addresses.push_back({ip_be(kOurIp), 24, 0});
  spec.routes.push_back({0, 0, 0, ip_be(kPeerIp)});  // default via the peer
  if (!is_ipvs(o.workload)) return spec;
  fulcrum::ServiceSpec s{};
  s.id = 0;
  s.proto = IPPROTO_TCP;
  s.vip = ip_be(kVip);
  s.vport = htons(kVport);
  s.scheduler = "rr";
  fulcrum::FwdMode fwd = o.workload == Workload::kNat || o.workload == Workload::kFlood
                             ? fulcrum::FwdMode::kNat
                         : o.workload == Workload::kFullnat ? fulcrum::FwdMode::kFullnat
                         : o.workload == Workload::kDr      ? fulcrum::FwdMode::kDr
                                                            : fulcrum::FwdMode::kTun;
  uint32_t laddrs = fwd == fulcrum::FwdMode::kFullnat ? laddr_count(o.flows) : 0;
  for (uint32_t p = 0; p < laddrs; p++) s.laddrs.push_back(fulcrum::Laddr{p, laddr_ip_be(p, laddrs)});
  s.client_addr = fulcrum::ClientAddr::kNone;  // the established path only
  s.synproxy = o.workload == Workload::kFlood;   // every SYN answered with a cookie
  for (uint32_t k = 0; k < kDests; k++) {
    fulcrum::DestSpec d{};
    d.id = k;
    d.ip = dest_ip_be(k);
    d.port = has_replies(o.workload) ? htons(kNatDestPort) : 0;
    d.fwd = fwd;
    d.weight = 1;
    d.available = true;
    s.dests.push_back(d);
  }
  spec.services.push_back(std::move(s));
  return spec;
}

int run(const Options& o) {
  // net_pcap loads the whole capture into mbufs of the port's pool; the
  // pool needs those plus the usual working set.
  uint64_t frames = 0;
  if (!o.pcap.empty()) {
    int64_t n = pcap_count(o.pcap);
    if (n < 0) return std::fprintf(stderr, "fastpath: %s is not a pcap file\n", o.pcap.c_str()), 2;
    frames = uint64_t(n);
    if (is_ipvs(o.workload) && frames != ipvs_frames(o.flows)) {
      std::fprintf(stderr, "fastpath: %s has %" PRIu64 " frames; --workload %s --flows %u expects %" PRIu64
                   " (write it with the same options)\n", o.pcap.c_str(), frames,
                   workload_name(o.workload), o.flows, ipvs_frames(o.flows));
      return 2;
    }
  }
  std::vector<std::string> args = {"fastpath", "-l", o.lcores, "--no-pci", "--in-memory",
                                   "--vdev", o.vdev};
  args.insert(args.end(), o.eal_extra.begin(), o.eal_extra.end());
  std::string err;
  if (!fulcrum::eal_init(args, err)) {
    std::fprintf(stderr, "fastpath: %s\n", err.c_str());
    return 2;
  }
  fulcrum::EngineConfig cfg;
  // The largest frame an mbuf holds is the port's MTU plus its Ethernet header.
  uint16_t mtu = uint16_t(std::min(1500, o.mbuf_size - RTE_PKTMBUF_HEADROOM - RTE_ETHER_HDR_LEN));
  cfg.ports.push_back({"bench", o.vdev.substr(0, o.vdev.find(',')), mtu});
  cfg.setup.mbuf_size = o.mbuf_size;
  cfg.setup.mbufs = o.mbufs != 0 ? o.mbufs : uint32_t(std::max<uint64_t>(8191, frames + 8191));
  if (is_ipvs(o.workload)) {
    // A table sized for twice the flows (the hash holds two keys per NAT
    // connection), and never below the default.
    uint32_t want = 1;
    while (want < 2 * o.flows) want <<= 1;
    cfg.ipvs.max_conns = std::max(cfg.ipvs.max_conns, want);
    // Only the flood's service is SYN-proxied (and it never holds state):
    // the others run without the SYN proxy's pool, as a balancer without
    // synproxy services can (dataplane.synproxy.max_conns: 0).
    if (o.workload != Workload::kFlood) cfg.ipvs.synproxy.max_conns = 0;
  }
  // The snapshot goes in before the workers poll: FULLNAT's capture expects
  // the pool to hand out ports in the order of the whole SYN phase.
  fulcrum::SnapshotSpec spec = make_spec(o);
  std::unique_ptr<fulcrum::Engine> engine = fulcrum::Engine::start(cfg, err, &spec);
  if (!engine) {
    std::fprintf(stderr, "fastpath: engine: %s\n", err.c_str());
    rte_eal_cleanup();
    return 2;
  }
  auto fail_start = [&](const std::string& why) {
    std::fprintf(stderr, "fastpath: %s\n", why.c_str());
    engine.reset();
    rte_eal_cleanup();
    return 2;
  };
  if (has_replies(o.workload) && engine->workers() != 1)
    return fail_start("nat and fullnat need exactly one worker (the capture's replies follow worker 0's rr rotation)");
  const fulcrum::Port& port = engine->ports()[0];
  std::printf("fastpath: workload %s", workload_name(o.workload));
  if (is_ipvs(o.workload))
    std::printf(", %u flows, max_conns %u per worker", o.flows, engine->ipvs_config().max_conns);
  std::printf("; %u worker(s) on lcores %s, port %s (%s, mac %s, rss %s, %u mbufs)\n",
              engine->workers(), o.lcores.c_str(), port.device_name.c_str(), port.driver.c_str(),
              mac_str(port.mac).c_str(), port.rss ? "on" : "off", cfg.setup.mbufs);
  std::printf("fastpath: warm-up %.1f s, measured window %.1f s\n", o.warmup, o.duration);

  auto sleep_for = [](double s) {
    std::this_thread::sleep_for(std::chrono::duration<double>(s));
  };
  sleep_for(o.warmup);
  engine->reclaim();  // frees the empty first snapshot; not needed, but tidy
  rte_eth_stats st0{}, st1{};
  Sample before = sample(*engine);
  IpvsSample ip0 = ipvs_sample(*engine);
  rte_eth_stats_get(port.port_id, &st0);
  auto t0 = std::chrono::steady_clock::now();
  sleep_for(o.duration);
  Sample after = sample(*engine);
  IpvsSample ip1 = ipvs_sample(*engine);
  rte_eth_stats_get(port.port_id, &st1);
  auto t1 = std::chrono::steady_clock::now();
  double secs = std::chrono::duration<double>(t1 - t0).count();
  std::vector<unsigned> lcores = engine->worker_lcores();
  uint32_t nworkers = engine->workers();
  engine.reset();  // stop workers, close the port

  auto delta = [&](uint32_t w, Counter c) { return after[w][idx(c)] - before[w][idx(c)]; };
  auto total = [&](const Sample& s, Counter c) {
    uint64_t sum = 0;
    for (uint32_t w = 0; w < nworkers; w++) sum += s[w][idx(c)];
    return sum;
  };
  double tsc_hz = double(rte_get_tsc_hz());
  bool ok = true;
  auto fail = [&](const std::string& why) {
    std::fprintf(stderr, "fastpath: FAIL: %s\n", why.c_str());
    ok = false;
  };
  const bool ipvs = is_ipvs(o.workload);
  uint64_t rx_all = 0, tx_all = 0, done_all = 0;
  std::printf("\n%-6s %-5s %10s %10s %10s %8s %10s %9s\n", "worker", "lcore", "rx Mpps",
              "tx Mpps", ipvs ? "fwd Mpps" : "echo Mpps", "tx/rx", "cycles/pkt", "avg burst");
  for (uint32_t w = 0; w < nworkers; w++) {
    uint64_t rx = delta(w, Counter::rx_packets), tx = delta(w, Counter::tx_packets);
    uint64_t busy = delta(w, Counter::polls_busy);
    // echo: replies sent; flood: SYN cookies sent; nat/dr/tun/fullnat:
    // packets the service forwarded.
    uint64_t done = o.workload == Workload::kFlood ? delta(w, Counter::synproxy_syn_cookies)
                    : ipvs                         ? ip1.fwd[w] - ip0.fwd[w]
                                                   : delta(w, Counter::icmp_echo_replies);
    rx_all += rx, tx_all += tx, done_all += done;
    std::printf("%-6u %-5u %10.3f %10.3f %10.3f %8.4f %10.1f %9.1f\n", w, lcores[w],
                rx / secs / 1e6, tx / secs / 1e6, done / secs / 1e6,
                rx ? double(tx) / double(rx) : 0.0, rx ? tsc_hz * secs / double(rx) : 0.0,
                busy ? double(rx) / double(busy) : 0.0);
  }
  uint64_t fwd_in = ip1.svc_in - ip0.svc_in, fwd_out = ip1.svc_out - ip0.svc_out;
  if (nworkers > 1)
    std::printf("%-12s %10.3f %10.3f %10.3f\n", "total", rx_all / secs / 1e6,
                tx_all / secs / 1e6, done_all / secs / 1e6);
  std::printf("port (ethdev stats): rx %.3f Mpps, tx %.3f Mpps, rx no-mbuf %" PRIu64
              ", missed %" PRIu64 "\n",
              (st1.ipackets - st0.ipackets) / secs / 1e6,
              (st1.opackets - st0.opackets) / secs / 1e6, st1.rx_nombuf - st0.rx_nombuf,
              st1.imissed - st0.imissed);

  // The IPVS checks: every flow has its connection, created in the first
  // replay round (before the window) and never again, spread evenly by rr,
  // ESTABLISHED, and the service forwarded everything but the ARP frames.
  // The flood checks: every SYN answered with a cookie, no state ever.
  if (o.workload == Workload::kFlood) {
    uint64_t created = total(after, Counter::conns_created);
    double share = double(kPktsPerFlow) * o.flows / double(ipvs_frames(o.flows));
    std::printf("flood: SYN cookies %.3f Mpps, connections created %" PRIu64 "\n", done_all / secs / 1e6, created);
    if (created != 0) fail("the SYN flood created " + std::to_string(created) + " connections");
    if (double(done_all) < 0.98 * share * double(rx_all)) fail("not every SYN was answered");
  }
  if (ipvs && o.workload != Workload::kFlood) {
    uint64_t created0 = total(before, Counter::conns_created);
    uint64_t created1 = total(after, Counter::conns_created);
    uint64_t expired = total(after, Counter::conns_expired), reused = total(after, Counter::conns_reused);
    uint64_t est = 0, conns = 0;
    std::string per_dest;
    for (uint32_t d = 0; d < kDests; d++) {
      est += ip1.active[d];
      conns += ip1.conns[d];
      per_dest += (d ? "/" : "") + std::to_string(ip1.conns[d]);
    }
    std::printf("ipvs: conns_created %" PRIu64 " (after warm-up %" PRIu64 "), per dest %s, "
                "established %" PRIu64 ", expired %" PRIu64 ", reused %" PRIu64 "; "
                "forwarded in %.3f Mpps, out %.3f Mpps\n",
                created1, created0, per_dest.c_str(), est, expired, reused, fwd_in / secs / 1e6,
                fwd_out / secs / 1e6);
    if (created0 != o.flows)
      fail("after warm-up conns_created is " + std::to_string(created0) + ", not the " +
           std::to_string(o.flows) + " flows of the capture");
    if (created1 != created0) fail("connections were created in the measured window");
    if (expired != 0 || reused != 0) fail("connections expired or were reused");
    for (uint32_t d = 0; d < kDests; d++)
      if (ip1.conns[d] != o.flows / kDests) fail("rr did not give every dest flows/4 connections: " + per_dest);
    if (est != o.flows) fail("only " + std::to_string(est) + " connections are ESTABLISHED");
    // Of F frames per round, kArpBlock are ARP replies (learned, not sent).
    double share = double(kPktsPerFlow) * o.flows / double(ipvs_frames(o.flows));
    if (double(fwd_in + fwd_out) < 0.98 * share * double(rx_all))
      fail("the service forwarded " + std::to_string(fwd_in + fwd_out) + " of " + std::to_string(rx_all) +
           " packets received");
    if (has_replies(o.workload) ? (fwd_out == 0 || fwd_in == 0) : fwd_out != 0)
      fail("forwarded in/out split is not what the workload sends");
  }

  // Everything else that moved in the window: drops are failures, the rest
  // (the replayed ARP replies being learned) is shown for the record.
  std::string drops, other;
  for (size_t c = 0; c < kCounterCount; c++) {
    Counter cc = static_cast<Counter>(c);
    if (cc == Counter::rx_packets || cc == Counter::rx_bytes || cc == Counter::tx_packets ||
        cc == Counter::tx_bytes || cc == Counter::icmp_echo_replies || cc == Counter::synproxy_syn_cookies ||
        cc == Counter::polls_busy || cc == Counter::polls_idle)
      continue;
    uint64_t sum = 0;
    for (uint32_t w = 0; w < nworkers; w++) sum += delta(w, cc);
    if (sum == 0) continue;
    std::string item = std::string(" ") + kCounterNames[c] + "=" + std::to_string(sum);
    // Packets held for ARP or refused by a full neighbour table are drops
    // too, in steady state.
    bool bad = std::strncmp(kCounterNames[c], "drop_", 5) == 0 || cc == Counter::neigh_held ||
               cc == Counter::neigh_table_full;
    (bad ? drops : other) += item;
  }
  std::printf("drops in window:%s\n", drops.empty() ? " none" : drops.c_str());
  std::printf("other counters in window:%s\n", other.empty() ? " none" : other.c_str());

  if (rx_all == 0) {
    fail("the workers received nothing");
  } else if (done_all == 0 || tx_all == 0) {
    fail(std::string("the workers ") + (ipvs ? "forwarded" : "replied to") + " nothing (" +
         std::to_string(done_all) + ", tx " + std::to_string(tx_all) + ")");
  } else {
    double share = ipvs ? double(kPktsPerFlow) * o.flows / double(ipvs_frames(o.flows)) : 1.0;
    if (double(tx_all) < 0.98 * share * double(rx_all) || tx_all > rx_all + nworkers * 64)
      fail("tx " + std::to_string(tx_all) + " is not ~rx " + std::to_string(rx_all));
  }
  if (!drops.empty()) fail("packets dropped in the measured window:" + drops);
  std::printf("RESULT fastpath workload=%s flows=%u workers=%u seconds=%.3f rx_mpps=%.4f "
              "tx_mpps=%.4f per_worker_mpps=%.4f ok=%d\n",
              workload_name(o.workload), ipvs ? o.flows : 0, nworkers, secs, rx_all / secs / 1e6,
              tx_all / secs / 1e6, rx_all / secs / 1e6 / nworkers, ok ? 1 : 0);
  rte_eal_cleanup();
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_args(argc, argv);
  if (!o.write_pcap.empty()) {
    bool ok = is_ipvs(o.workload) ? write_ipvs_pcap(o.write_pcap, o.workload, o.flows)
                                  : write_echo_pcap(o.write_pcap, o.frames);
    return ok ? 0 : 2;
  }
  return run(o);
}
