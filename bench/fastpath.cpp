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
// Today's workload is ICMP echo to an owned address: parse + validate +
// classify + echo reply + route lookup + neighbour lookup + Ethernet rewrite
// + tx. The capture starts with one ARP reply from the peer (10.0.0.1) so
// the worker learns its MAC from the wire, as it would in production; the
// replay repeats it once per round (1 frame in frames+1), which keeps the
// entry fresh and costs nothing measurable.
//
//   fastpath --write-pcap FILE [--frames N]      write the capture and exit
//   fastpath [--duration S] [--warmup S] [--lcores L] (--vdev STR | --pcap FILE)
//            [-- extra EAL args]                  run and print the table
//
// The last line of a run is machine-readable ("RESULT fastpath ...") for
// bench/run.sh. Exit status: 0 measured and sane, 1 the checks failed (no
// replies, drops, tx far from rx), 2 usage or start-up errors.

#include <algorithm>
#include <array>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
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

namespace {

using fulcrum::Counter;
using fulcrum::kCounterCount;
using fulcrum::kCounterNames;

// The bench's little network: we are 10.0.0.2/24 on port 0, the peer
// (client and default gateway) is 10.0.0.1.
constexpr const char* kOurIp = "10.0.0.2";
constexpr const char* kPeerIp = "10.0.0.1";
constexpr uint8_t kPeerMac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
// Frames are addressed to the MAC net_pcap gives its first port
// ("\x02pcap" + index). Fulcrum does not filter on it (the port is
// promiscuous), but an honest capture says who it is for; the run prints
// the port's MAC so a mismatch is visible.
constexpr uint8_t kOurMac[6] = {0x02, 0x70, 0x63, 0x61, 0x70, 0x00};
constexpr size_t kFrameLen = 60;  // 64 bytes on the wire with the FCS

uint32_t ip_be(const char* s) {
  in_addr a{};
  inet_pton(AF_INET, s, &a);
  return a.s_addr;
}

// ---------------------------------------------------------------- capture

uint16_t inet_csum(const uint8_t* p, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += uint32_t(p[i]) << 8 | p[i + 1];
  if (len & 1) sum += uint32_t(p[len - 1]) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}

void put16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v >> 8), p[1] = uint8_t(v); }
void put32be(uint8_t* p, uint32_t be) { std::memcpy(p, &be, 4); }

std::vector<uint8_t> arp_reply_frame() {
  std::vector<uint8_t> f(kFrameLen, 0);  // ARP body is 28 bytes: zero padding
  std::memcpy(&f[0], kOurMac, 6);
  std::memcpy(&f[6], kPeerMac, 6);
  put16(&f[12], 0x0806);
  uint8_t* a = &f[14];
  put16(a + 0, 1);       // Ethernet
  put16(a + 2, 0x0800);  // IPv4
  a[4] = 6, a[5] = 4;
  put16(a + 6, 2);       // reply
  std::memcpy(a + 8, kPeerMac, 6);
  put32be(a + 14, ip_be(kPeerIp));
  std::memcpy(a + 18, kOurMac, 6);
  put32be(a + 24, ip_be(kOurIp));
  return f;
}

// Echo request number i: 20-byte IP header, 8-byte ICMP header, 18 bytes
// of payload, so the frame is exactly 60 bytes and carries no padding.
std::vector<uint8_t> echo_frame(uint32_t i) {
  std::vector<uint8_t> f(kFrameLen, 0);
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

bool write_pcap(const std::string& path, uint32_t frames) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return std::perror(path.c_str()), false;
  struct {
    uint32_t magic = 0xa1b2c3d4;
    uint16_t major = 2, minor = 4;
    int32_t zone = 0;
    uint32_t sigfigs = 0, snaplen = 65535, linktype = 1;  // Ethernet
  } hdr;
  bool ok = std::fwrite(&hdr, sizeof(hdr), 1, f) == 1;
  for (uint32_t i = 0; ok && i <= frames; i++) {
    std::vector<uint8_t> fr = i == 0 ? arp_reply_frame() : echo_frame(i - 1);
    uint32_t rec[4] = {0, i, uint32_t(fr.size()), uint32_t(fr.size())};
    ok = std::fwrite(rec, sizeof(rec), 1, f) == 1 && std::fwrite(fr.data(), fr.size(), 1, f) == 1;
  }
  if (std::fclose(f) != 0) ok = false;
  if (!ok) std::fprintf(stderr, "fastpath: cannot write %s\n", path.c_str());
  return ok;
}

// ---------------------------------------------------------------- run

struct Options {
  double duration = 5.0;
  double warmup = 1.0;
  std::string lcores = "0,1";
  std::string vdev;
  std::vector<std::string> eal_extra;
  std::string write_pcap;
  uint32_t frames = 1024;
};

[[noreturn]] void usage(const char* why) {
  if (why != nullptr) std::fprintf(stderr, "fastpath: %s\n", why);
  std::fprintf(stderr,
               "usage: fastpath --write-pcap FILE [--frames N]\n"
               "       fastpath [--duration S] [--warmup S] [--lcores LIST]\n"
               "                (--vdev DEVARGS | --pcap FILE) [-- EAL args...]\n");
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
    } else if (a == "--duration") {
      o.duration = std::atof(value().c_str());
    } else if (a == "--warmup") {
      o.warmup = std::atof(value().c_str());
    } else if (a == "--lcores" || a == "-l") {
      o.lcores = value();
    } else if (a == "--vdev") {
      o.vdev = value();
    } else if (a == "--pcap") {
      o.vdev = "net_pcap0,rx_pcap=" + value() + ",infinite_rx=1";
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
  return o;
}

using Sample = std::vector<std::array<uint64_t, kCounterCount>>;

// The workers write their blocks without atomics; an aligned 64-bit load
// never tears, and a relaxed atomic load says so to the compiler.
Sample sample(const fulcrum::Engine& e) {
  Sample s(e.workers());
  for (uint32_t w = 0; w < e.workers(); w++)
    for (size_t c = 0; c < kCounterCount; c++)
      s[w][c] = __atomic_load_n(&e.counters()[w].v[c], __ATOMIC_RELAXED);
  return s;
}

std::string mac_str(const rte_ether_addr& m) {
  char b[18];
  std::snprintf(b, sizeof(b), "%02x:%02x:%02x:%02x:%02x:%02x", m.addr_bytes[0], m.addr_bytes[1],
                m.addr_bytes[2], m.addr_bytes[3], m.addr_bytes[4], m.addr_bytes[5]);
  return b;
}

size_t idx(Counter c) { return static_cast<size_t>(c); }

int run(const Options& o) {
  std::vector<std::string> args = {"fastpath", "-l", o.lcores, "--no-pci", "--in-memory",
                                   "--vdev", o.vdev};
  args.insert(args.end(), o.eal_extra.begin(), o.eal_extra.end());
  std::string err;
  if (!fulcrum::eal_init(args, err)) {
    std::fprintf(stderr, "fastpath: %s\n", err.c_str());
    return 2;
  }
  fulcrum::EngineConfig cfg;
  cfg.ports.push_back({"bench", o.vdev.substr(0, o.vdev.find(',')), 1500});
  std::unique_ptr<fulcrum::Engine> engine = fulcrum::Engine::start(cfg, err);
  if (!engine) {
    std::fprintf(stderr, "fastpath: engine: %s\n", err.c_str());
    rte_eal_cleanup();
    return 2;
  }
  fulcrum::SnapshotSpec spec;
  spec.addresses.push_back({ip_be(kOurIp), 24, 0});
  spec.routes.push_back({0, 0, 0, ip_be(kPeerIp)});  // default via the peer
  if (!engine->apply(spec, err)) {
    std::fprintf(stderr, "fastpath: snapshot: %s\n", err.c_str());
    engine.reset();
    rte_eal_cleanup();
    return 2;
  }
  const fulcrum::Port& port = engine->ports()[0];
  std::printf("fastpath: %u worker(s) on lcores %s, port %s (%s, mac %s, rss %s)\n",
              engine->workers(), o.lcores.c_str(), port.device_name.c_str(),
              port.driver.c_str(), mac_str(port.mac).c_str(), port.rss ? "on" : "off");
  std::printf("fastpath: warm-up %.1f s, measured window %.1f s\n", o.warmup, o.duration);

  auto sleep_for = [](double s) {
    std::this_thread::sleep_for(std::chrono::duration<double>(s));
  };
  sleep_for(o.warmup);
  engine->reclaim();  // frees the empty first snapshot; not needed, but tidy
  rte_eth_stats st0{}, st1{};
  Sample before = sample(*engine);
  rte_eth_stats_get(port.port_id, &st0);
  auto t0 = std::chrono::steady_clock::now();
  sleep_for(o.duration);
  Sample after = sample(*engine);
  rte_eth_stats_get(port.port_id, &st1);
  auto t1 = std::chrono::steady_clock::now();
  double secs = std::chrono::duration<double>(t1 - t0).count();
  std::vector<unsigned> lcores = engine->worker_lcores();
  uint32_t nworkers = engine->workers();
  engine.reset();  // stop workers, close the port

  auto delta = [&](uint32_t w, Counter c) { return after[w][idx(c)] - before[w][idx(c)]; };
  double tsc_hz = double(rte_get_tsc_hz());
  bool ok = true;
  uint64_t rx_all = 0, tx_all = 0, echo_all = 0;
  std::printf("\n%-6s %-5s %10s %10s %10s %8s %10s %9s\n", "worker", "lcore", "rx Mpps",
              "tx Mpps", "echo Mpps", "tx/rx", "cycles/pkt", "avg burst");
  for (uint32_t w = 0; w < nworkers; w++) {
    uint64_t rx = delta(w, Counter::rx_packets), tx = delta(w, Counter::tx_packets);
    uint64_t echo = delta(w, Counter::icmp_echo_replies), busy = delta(w, Counter::polls_busy);
    rx_all += rx, tx_all += tx, echo_all += echo;
    std::printf("%-6u %-5u %10.3f %10.3f %10.3f %8.4f %10.1f %9.1f\n", w, lcores[w],
                rx / secs / 1e6, tx / secs / 1e6, echo / secs / 1e6,
                rx ? double(tx) / double(rx) : 0.0, rx ? tsc_hz * secs / double(rx) : 0.0,
                busy ? double(rx) / double(busy) : 0.0);
  }
  if (nworkers > 1)
    std::printf("%-12s %10.3f %10.3f %10.3f\n", "total", rx_all / secs / 1e6,
                tx_all / secs / 1e6, echo_all / secs / 1e6);
  std::printf("port (ethdev stats): rx %.3f Mpps, tx %.3f Mpps, rx no-mbuf %" PRIu64
              ", missed %" PRIu64 "\n",
              (st1.ipackets - st0.ipackets) / secs / 1e6,
              (st1.opackets - st0.opackets) / secs / 1e6, st1.rx_nombuf - st0.rx_nombuf,
              st1.imissed - st0.imissed);

  // Everything else that moved in the window: drops are failures, the rest
  // (the replayed ARP reply being learned) is shown for the record.
  std::string drops, other;
  for (size_t c = 0; c < kCounterCount; c++) {
    Counter cc = static_cast<Counter>(c);
    if (cc == Counter::rx_packets || cc == Counter::rx_bytes || cc == Counter::tx_packets ||
        cc == Counter::tx_bytes || cc == Counter::icmp_echo_replies ||
        cc == Counter::polls_busy || cc == Counter::polls_idle)
      continue;
    uint64_t sum = 0;
    for (uint32_t w = 0; w < nworkers; w++) sum += delta(w, cc);
    if (sum == 0) continue;
    std::string item = std::string(" ") + kCounterNames[c] + "=" + std::to_string(sum);
    (std::strncmp(kCounterNames[c], "drop_", 5) == 0 ? drops : other) += item;
  }
  std::printf("drops in window:%s\n", drops.empty() ? " none" : drops.c_str());
  std::printf("other counters in window:%s\n", other.empty() ? " none" : other.c_str());

  if (rx_all == 0) {
    std::fprintf(stderr, "fastpath: FAIL: the workers received nothing\n");
    ok = false;
  } else if (echo_all == 0 || tx_all == 0) {
    std::fprintf(stderr, "fastpath: FAIL: the workers replied to nothing (echo %" PRIu64
                         ", tx %" PRIu64 ")\n", echo_all, tx_all);
    ok = false;
  } else if (double(tx_all) < 0.98 * double(rx_all) || tx_all > rx_all + nworkers * 64) {
    std::fprintf(stderr, "fastpath: FAIL: tx %" PRIu64 " is not ~rx %" PRIu64 "\n", tx_all,
                 rx_all);
    ok = false;
  }
  if (!drops.empty()) {
    std::fprintf(stderr, "fastpath: FAIL: packets dropped in the measured window:%s\n",
                 drops.c_str());
    ok = false;
  }
  std::printf("RESULT fastpath workers=%u seconds=%.3f rx_mpps=%.4f tx_mpps=%.4f "
              "per_worker_mpps=%.4f ok=%d\n",
              nworkers, secs, rx_all / secs / 1e6, tx_all / secs / 1e6,
              rx_all / secs / 1e6 / nworkers, ok ? 1 : 0);
  rte_eal_cleanup();
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_args(argc, argv);
  if (!o.write_pcap.empty()) return write_pcap(o.write_pcap, o.frames) ? 0 : 2;
  return run(o);
}
