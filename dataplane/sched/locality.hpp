// SPDX-License-Identifier: Apache-2.0
//
// LocalityTable: the per-worker key -> value map of lblc and lblcr.
//
// A fixed 1024 entries, allocated once by make_state(), so pick() never
// allocates: 256 sets of 4 ways, the set chosen by the 8-bit hash of the
// key. An entry idle (not looked up) for longer than expire_ms is
// forgotten when its key is next looked up, and its way is reused by the
// next insert into that set; when a set is full of live entries, the
// least recently used one is overwritten. So collection is lazy and costs
// at most the 4 ways of one set per pick; an idle key elsewhere simply
// waits, harmless, until its way is reused.
#pragma once

#include <cstdint>
#include <vector>

#include "sched/common.hpp"

namespace fulcrum::sched {

template <class V>
class LocalityTable {
 public:
  static constexpr uint32_t kSets = 256;
  static constexpr uint32_t kWays = 4;

  struct Entry {
    uint32_t key = 0;
    bool used = false;
    uint64_t last_used = 0;  // now_ms of the last lookup
    V value{};
  };

  explicit LocalityTable(uint64_t expire_ms) : expire_ms_(expire_ms), entries_(kSets * kWays) {}

  // The live entry for key, or nullptr (never seen, overwritten or expired).
  Entry* find(uint32_t key, uint64_t now) {
    Entry* set = set_of(key);
    for (uint32_t w = 0; w < kWays; ++w) {
      Entry& e = set[w];
      if (!e.used || e.key != key) continue;
      if (!expired(e, now)) return &e;
      e.used = false;  // forget it: the key starts over
      return nullptr;
    }
    return nullptr;
  }

  // A fresh entry for key, which find() has just missed: a free or
  // expired way of its set, else the set's least recently used entry.
  Entry& insert(uint32_t key, uint64_t now) {
    Entry* set = set_of(key);
    Entry* victim = &set[0];
    for (uint32_t w = 0; w < kWays; ++w) {
      Entry& e = set[w];
      if (!e.used || expired(e, now)) {
        victim = &e;
        break;
      }
      if (e.last_used < victim->last_used) victim = &e;
    }
    *victim = Entry{key, true, now, V{}};
    return *victim;
  }

 private:
  Entry* set_of(uint32_t key) { return &entries_[size_t(hash8(key)) * kWays]; }

  // A clock that went backwards (it should not) never expires anything.
  bool expired(const Entry& e, uint64_t now) const {
    return now > e.last_used && now - e.last_used > expire_ms_;
  }

  uint64_t expire_ms_;
  std::vector<Entry> entries_;
};

}  // namespace fulcrum::sched
