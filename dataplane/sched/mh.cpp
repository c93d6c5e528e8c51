// SPDX-License-Identifier: Apache-2.0
//
// mh: Maglev hashing. The client address (and, with mh_hash_port, the
// client port) hashes to one slot of the Maglev table (maglev.hpp), which
// names the dest. Like sh it is stateless and the same on every worker,
// but a change of the dest list only remaps about the changed dest's
// share of clients instead of most of them.
//
// When the slot's dest is unusable: with mh_fallback the slots after it
// are tried in order until one names a usable dest (its clients spread
// over the others by their shares); without it there is no dest (-1), so
// a client never silently moves. The table is mh_table_size entries
// (a prime, default 65537 = about 6500 slots for each of 10 dests: the
// more slots per dest, the closer the shares follow the weights).
#include <algorithm>

#include "sched/common.hpp"
#include "sched/factories.hpp"
#include "sched/maglev.hpp"

namespace fulcrum::sched {
namespace {

// Three unrelated hashes from one mixer: slot offset and skip of a dest,
// and the client's slot.
constexpr uint64_t kSeedOffset = 0x9e3779b97f4a7c15ull;
constexpr uint64_t kSeedSkip = 0xc2b2ae3d27d4eb4full;
constexpr uint64_t kSeedClient = 0x165667b19e3779f9ull;

uint64_t endpoint_key(uint32_t ip, uint16_t port) { return (uint64_t(ip) << 16) | port; }

// Where dest i is in the population: its next preferred slot and step.
struct Walker {
  uint32_t pos;
  uint32_t skip;
  uint64_t credit;
};

Walker walker_for(const SchedDest& d, uint32_t m) {
  uint64_t key = endpoint_key(d.ip, d.port);
  return Walker{uint32_t(mix64(key ^ kSeedOffset) % m),
                uint32_t(mix64(key ^ kSeedSkip) % (m - 1) + 1), 0};
}

// Dest i claims its next preferred slot that is still free.
void claim(std::vector<int32_t>& table, Walker& w, uint32_t i) {
  const uint32_t m = uint32_t(table.size());
  while (table[w.pos] >= 0) w.pos = w.pos + w.skip >= m ? w.pos + w.skip - m : w.pos + w.skip;
  table[w.pos] = int32_t(i);
}

// The paper's population loop, with weighted turns (maglev.hpp).
void populate(const std::vector<SchedDest>& dests, std::vector<int32_t>& table) {
  const uint32_t m = uint32_t(table.size());
  uint32_t max_w = 0;
  for (const SchedDest& d : dests) max_w = std::max(max_w, d.weight);
  if (max_w == 0) return;  // no dest may take a slot: all stay -1
  std::vector<Walker> walkers;
  for (const SchedDest& d : dests) walkers.push_back(walker_for(d, m));
  for (uint32_t filled = 0; filled < m;) {
    for (uint32_t i = 0; i < dests.size() && filled < m; ++i) {
      Walker& w = walkers[i];
      for (w.credit += dests[i].weight; w.credit >= max_w && filled < m; w.credit -= max_w) {
        claim(table, w, i);
        ++filled;
      }
    }
  }
}

class Maglev final : public Scheduler {
 public:
  Maglev(std::vector<int32_t> table, const SchedOptions& opts)
      : table_(std::move(table)), hash_port_(opts.mh_hash_port), fallback_(opts.mh_fallback) {}

  int32_t pick(const SchedInput& in, SchedState*) const override {
    const uint32_t m = uint32_t(table_.size());
    uint64_t key = endpoint_key(in.caddr, hash_port_ ? in.cport : 0);
    uint32_t slot = uint32_t(mix64(key ^ kSeedClient) % m);
    int32_t d = table_[slot];
    if (d >= 0 && usable_at(in, uint32_t(d))) return d;
    if (!fallback_ || !any_usable(in)) return -1;
    for (uint32_t k = 1; k < m; ++k) {
      slot = slot + 1 == m ? 0 : slot + 1;
      d = table_[slot];
      if (d >= 0 && usable_at(in, uint32_t(d))) return d;
    }
    return -1;
  }

 private:
  // Spares a walk over the whole table when every dest is down.
  static bool any_usable(const SchedInput& in) {
    for (uint32_t i = 0; i < in.ndests; ++i) {
      if (usable(in.dests[i])) return true;
    }
    return false;
  }

  std::vector<int32_t> table_;
  bool hash_port_;
  bool fallback_;
};

}  // namespace

bool is_prime(uint32_t n) {
  if (n < 2) return false;
  for (uint64_t f = 2; f * f <= n; ++f) {
    if (n % f == 0) return false;
  }
  return true;
}

bool build_maglev(const std::vector<SchedDest>& dests, uint32_t size, std::vector<int32_t>& table,
                  std::string& err) {
  if (size < kMaglevMinSize || size > kMaglevMaxSize || !is_prime(size)) {
    err = "mh: mh_table_size " + std::to_string(size) + " must be a prime between " +
          std::to_string(kMaglevMinSize) + " and " + std::to_string(kMaglevMaxSize) +
          " (e.g. 65537)";
    return false;
  }
  table.assign(size, -1);
  populate(dests, table);
  return true;
}

std::unique_ptr<Scheduler> make_mh(const std::vector<SchedDest>& dests, const SchedOptions& opts,
                                   std::string& err) {
  std::vector<int32_t> table;
  if (!build_maglev(dests, opts.mh_table_size, table, err)) return nullptr;
  return std::make_unique<Maglev>(std::move(table), opts);
}

}  // namespace fulcrum::sched
