// SPDX-License-Identifier: Apache-2.0
//
// Distinct IPv4 addresses -> their position in a vector the snapshot
// keeps sorted (for merges with the previous snapshot, announcements and
// tests). Every steered packet asks whether an address is owned (a VIP,
// a local address) or a NAT dest: a binary search over 10,000 VIPs or
// 80,000 dests was a branch no predictor learns at each of its 14-17
// steps, 280 cycles a packet at 10,000 services (bench/steer), more than
// forwarding it. Here a lookup is a multiply, a shift and nearly always
// one slot: open addressing, linear probing, at most half full.
//
// Built once by the control thread with the snapshot, then read-only:
// any thread. Copies share the table (counted on the control thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace fulcrum {

class AddressIndex {
 public:
  // Indexes the n distinct addresses ip_of(0..n-1) (network order) by position.
  template <class IpOf>
  void build(size_t n, IpOf ip_of) {
    uint32_t bits = 3;
    while ((size_t(1) << bits) < 2 * n) bits++;
    const uint32_t mask = (uint32_t(1) << bits) - 1;
    std::shared_ptr<Slot[]> table = std::make_shared<Slot[]>(size_t(mask) + 1, Slot{0, kEmpty});
    shift_ = 32 - bits;
    for (size_t i = 0; i < n; i++) {
      uint32_t ip = ip_of(i), h = slot_of(ip);
      while (table[h].pos != kEmpty) h = (h + 1) & mask;
      table[h] = Slot{ip, uint32_t(i)};
    }
    slots_ = std::move(table);
    mask_ = mask;
  }

  // The position of ip (network order), or -1.
  int32_t find(uint32_t ip) const {
    if (slots_ == nullptr) return -1;
    for (uint32_t h = slot_of(ip);; h = (h + 1) & mask_) {
      const Slot& s = slots_[h];
      if (s.pos == kEmpty) return -1;
      if (s.ip == ip) return int32_t(s.pos);
    }
  }

  // Whether two indexes share one table (a copy shares its original's).
  bool shares(const AddressIndex& other) const { return slots_ == other.slots_; }

 private:
  struct Slot {
    uint32_t ip;
    uint32_t pos;  // kEmpty: a free slot (any ip, 0.0.0.0 included, may be indexed)
  };
  static constexpr uint32_t kEmpty = UINT32_MAX;

  // Fibonacci hashing: the top bits of the product depend on every bit
  // of the address, so the addresses of one subnet spread.
  uint32_t slot_of(uint32_t ip) const { return (ip * 0x9e3779b1u) >> shift_; }

  // Shared by copies, so that a snapshot can take its predecessor's
  // index, and held by pointer here, so that a find loads the slot
  // straight from the snapshot's copy. Null until build(): finds nothing.
  std::shared_ptr<const Slot[]> slots_;
  uint32_t mask_ = 0;
  uint32_t shift_ = 32;
};

}  // namespace fulcrum
