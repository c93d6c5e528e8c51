// SPDX-License-Identifier: Apache-2.0
//
// scale: the connection table at N connections, against DPDK's own
// libraries doing the same job in the same run.
//
//   scale --conns N [--no-huge]
//
// Fulcrum: a ConnTable for N connections (ipvs/conn.hpp: one array of
// 64-byte connections, a 32-byte ext each, a key-less cuckoo index of
// 8-byte entries sized for two keys per connection).
// Reference: what the table was built from before, and what a DPDK
// application reaches for first: an rte_mempool of N objects of the same
// 64 + 32 bytes and an rte_hash of 2N 16-byte keys (extendable table, CRC
// hash), the key's data the object pointer.
//
// For each: the bytes per connection taken from DPDK's heap at create, and
// as the table fills to 25, 50, 75 and 100 % (one in key per connection,
// random clients), the cycles of a bulk lookup of 32 random present keys.
// The last line is machine-readable ("RESULT scale ..."): both sets and the
// ratios. --no-huge runs EAL without hugepages (10M connections take more
// than the 1 GB setup reserves); only ratios within one run mean anything.
// Exit status 0 measured and every lookup found its connection, 1 a check
// failed, 2 start-up.

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mempool.h>
#include <rte_prefetch.h>

#include "ipvs/conn.hpp"

namespace {

using namespace fulcrum;

constexpr uint32_t kBatch = 32;
constexpr uint32_t kRounds = 20000;

size_t heap_used() {
  rte_malloc_socket_stats st{};
  rte_malloc_get_socket_stats(int(rte_socket_id()), &st);
  return st.heap_allocsz_bytes;
}

// Client i of the fill: distinct for any i below 2^32.
ConnTuple client(uint32_t i) {
  return ConnTuple{IPPROTO_TCP, htonl(0xac000000u + (i & 0xffffff)), inet_addr("10.0.0.100"),
                   htons(uint16_t(1024 + (i >> 24))), htons(80)};
}

// The table under test, behind the three operations the bench needs.
struct Table {
  virtual ~Table() = default;
  virtual bool add(const ConnTuple& t) = 0;
  virtual void lookup(const ConnTuple* t, uint32_t n, uint32_t& found) = 0;
};

struct Fulcrum final : Table {
  std::unique_ptr<ConnTable> t;
  bool add(const ConnTuple& k) override {
    Conn* c = t->alloc();
    if (c == nullptr) return false;
    c->proto = k.proto, c->caddr = k.saddr, c->cport = k.sport, c->vaddr = k.daddr, c->vport = k.dport;
    return t->insert(c, false) == ConnInsert::kOk;
  }
  void lookup(const ConnTuple* k, uint32_t n, uint32_t& found) override {
    ConnHit hits[kBatch];
    t->lookup_bulk(k, n, hits);
    for (uint32_t i = 0; i < n; i++) found += hits[i].conn != nullptr;
  }
};

struct Key {
  uint32_t saddr, daddr;
  uint16_t sport, dport;
  uint32_t proto;
};

struct Reference final : Table {
  rte_mempool* pool = nullptr;
  rte_hash* hash = nullptr;
  ~Reference() override {
    rte_hash_free(hash);
    rte_mempool_free(pool);
  }
  bool add(const ConnTuple& k) override {
    void* obj;
    if (rte_mempool_get(pool, &obj) != 0) return false;
    Key key{k.saddr, k.daddr, k.sport, k.dport, k.proto};
    return rte_hash_add_key_data(hash, &key, obj) == 0;
  }
  void lookup(const ConnTuple* k, uint32_t n, uint32_t& found) override {
    Key keys[kBatch];
    const void* ptrs[kBatch];
    void* data[kBatch];
    for (uint32_t i = 0; i < n; i++) keys[i] = Key{k[i].saddr, k[i].daddr, k[i].sport, k[i].dport, k[i].proto}, ptrs[i] = &keys[i];
    uint64_t hit = 0;
    rte_hash_lookup_bulk_data(hash, ptrs, n, &hit, data);
    // The packet path reads the connection next; Fulcrum's lookup has
    // read it already (the key is compared there).
    for (uint32_t i = 0; i < n; i++)
      if ((hit >> i) & 1) rte_prefetch0(data[i]);
    for (uint32_t i = 0; i < n; i++)
      if ((hit >> i) & 1) found += *static_cast<volatile uint8_t*>(data[i]) == 0;
  }
};

std::unique_ptr<Table> make_fulcrum(uint32_t n, std::string& err) {
  auto t = std::make_unique<Fulcrum>();
  t->t = ConnTable::create("scale", n, int(rte_socket_id()), err);
  return t->t ? std::move(t) : nullptr;
}

std::unique_ptr<Table> make_reference(uint32_t n, std::string& err) {
  auto t = std::make_unique<Reference>();
  t->pool = rte_mempool_create("scale_ref", n, sizeof(Conn) + sizeof(ConnExt), 0, 0, nullptr, nullptr, nullptr,
                               nullptr, int(rte_socket_id()), MEMPOOL_F_SP_PUT | MEMPOOL_F_SC_GET);
  rte_hash_parameters p{};
  p.name = "scale_ref";
  p.entries = 2 * n;
  p.key_len = sizeof(Key);
  p.hash_func = rte_hash_crc;
  p.socket_id = int(rte_socket_id());
  p.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  if (t->pool != nullptr) t->hash = rte_hash_create(&p);
  if (t->hash == nullptr) return err = std::string("reference: ") + rte_strerror(rte_errno), nullptr;
  return t;
}

struct Measured {
  double bytes_per_conn = 0;
  double cycles[4] = {};  // per lookup at 25, 50, 75, 100 %
};

// Fills t quarter by quarter, timing bulk lookups of random present keys
// after each. False when a fill failed or a lookup missed.
bool measure(Table& t, uint32_t n, Measured& m) {
  uint64_t x = 88172645463325252ULL;
  for (uint32_t q = 0, filled = 0; q < 4; q++) {
    uint32_t target = uint32_t(uint64_t(n) * (q + 1) / 4);
    for (; filled < target; filled++)
      if (!t.add(client(filled))) return std::fprintf(stderr, "scale: fill failed at %u\n", filled), false;
    ConnTuple batch[kBatch];
    uint64_t cycles = 0;
    uint32_t found = 0;
    for (uint32_t r = 0; r < kRounds; r++) {
      for (uint32_t k = 0; k < kBatch; k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        batch[k] = client(uint32_t(x % filled));
      }
      uint64_t t0 = rte_rdtsc_precise();
      t.lookup(batch, kBatch, found);
      cycles += rte_rdtsc_precise() - t0;
    }
    if (found != kRounds * kBatch) return std::fprintf(stderr, "scale: lookups missed\n"), false;
    m.cycles[q] = double(cycles) / (kRounds * kBatch);
  }
  return true;
}

using Factory = std::unique_ptr<Table> (*)(uint32_t, std::string&);

bool run(const char* name, Factory make, uint32_t n, Measured& m) {
  std::string err;
  size_t before = heap_used();
  std::unique_ptr<Table> t = make(n, err);
  if (!t) return std::fprintf(stderr, "scale: %s: %s\n", name, err.c_str()), false;
  m.bytes_per_conn = double(heap_used() - before) / n;
  if (!measure(*t, n, m)) return false;
  std::printf("scale: %-9s %9u conns: %4.0f bytes each; cycles per lookup at 25/50/75/100%%: %.0f / %.0f / %.0f / %.0f\n",
              name, n, m.bytes_per_conn, m.cycles[0], m.cycles[1], m.cycles[2], m.cycles[3]);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t n = 1u << 20;
  bool no_huge = false;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--conns" && i + 1 < argc) n = uint32_t(std::atol(argv[++i]));
    else if (a == "--no-huge") no_huge = true;
    else return std::fprintf(stderr, "usage: scale [--conns N] [--no-huge]\n"), 2;
  }
  // Without hugepages the heap is reserved up front: room for both tables.
  std::string mem = std::to_string(uint64_t(n) * 400 / (1 << 20) + 256);
  std::vector<const char*> eal = {argv[0], "-l", "0", "--no-pci", "--log-level=error"};
  // --no-huge means legacy memory, which --in-memory refuses.
  if (no_huge) eal.insert(eal.end(), {"--no-huge", "--no-shconf", "-m", mem.c_str()});
  else eal.push_back("--in-memory");
  if (rte_eal_init(int(eal.size()), const_cast<char**>(eal.data())) < 0)
    return std::fprintf(stderr, "scale: EAL did not start (hugepages?)\n"), 2;
  Measured ours, ref;
  bool ok = run("fulcrum", make_fulcrum, n, ours) && run("reference", make_reference, n, ref);
  if (ok)
    std::printf("RESULT scale conns=%u bytes_per_conn=%.0f ref_bytes_per_conn=%.0f lookup_100=%.0f ref_lookup_100=%.0f "
                "lookup_ratio=%.2f%s ok=1\n",
                n, ours.bytes_per_conn, ref.bytes_per_conn, ours.cycles[3], ref.cycles[3], ours.cycles[3] / ref.cycles[3],
                no_huge ? " no_huge=1" : "");
  rte_eal_cleanup();
  return ok ? 0 : 1;
}
