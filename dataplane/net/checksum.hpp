// SPDX-License-Identifier: Apache-2.0
//
// Incremental Internet checksum updates (RFC 1624). Rewriting a field is
// cheaper and, for payloads that span segments, simpler than summing the
// whole packet again.
#pragma once

#include <cstdint>

namespace fulcrum {

// The checksum after one 16-bit word of the covered data changes from
// old_word to new_word. All three in network order. Any thread.
inline uint16_t cksum_adjust16(uint16_t cksum, uint16_t old_word, uint16_t new_word) {
  uint32_t sum = uint16_t(~cksum) + uint32_t(uint16_t(~old_word)) + new_word;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}

// The same for a 32-bit field (an IPv4 address), as two 16-bit words.
inline uint16_t cksum_adjust32(uint16_t cksum, uint32_t old_val, uint32_t new_val) {
  cksum = cksum_adjust16(cksum, uint16_t(old_val), uint16_t(new_val));
  return cksum_adjust16(cksum, uint16_t(old_val >> 16), uint16_t(new_val >> 16));
}

// A one's-complement sum of 16- and 32-bit words, in 64 bits and folded
// once at the end. The sum does not care about word width or byte order,
// so values go in as they sit (or will sit) in memory. Summing the fields
// of a header being written, rather than reading the header back, avoids
// the wide loads of narrow stores that stall on store forwarding.
class CksumSum {
 public:
  void add16(uint16_t v) { acc_ += v; }
  void add32(uint32_t v) { acc_ += v; }
  void add(const CksumSum& other) { acc_ += other.acc_; }

  // The 16-bit sum; the checksum of the words summed is its complement.
  // A word plus itself rotated by half its width holds in its upper half
  // the sum of its halves with the carry out of the lower half added back:
  // their one's-complement sum, in two steps rather than four dependent
  // mask-shift-add folds (the IPv4 header check of every packet ends here).
  uint16_t folded() const {
    uint64_t s = acc_ + ((acc_ >> 32) | (acc_ << 32));
    uint32_t w = uint32_t(s >> 32);
    w += (w >> 16) | (w << 16);
    return uint16_t(w >> 16);
  }
  uint16_t cksum() const { return uint16_t(~folded()); }

 private:
  uint64_t acc_ = 0;
};

// Several fields changing at once: every (~old + new) is summed and folded
// once, rather than folding after each word (a chain of dependent folds
// was the largest cost of a FULLNAT rewrite). 32-bit fields go in whole.
// Values as they sit in memory (network order), like the checksum.
class CksumDelta {
 public:
  void add32(uint32_t old_val, uint32_t new_val) { sum_.add32(~old_val), sum_.add32(new_val); }
  void add16(uint16_t old_val, uint16_t new_val) { sum_.add16(uint16_t(~old_val)), sum_.add16(new_val); }
  void add(const CksumDelta& other) { sum_.add(other.sum_); }

  // The checksum after the changes added so far.
  uint16_t apply(uint16_t cksum) const {
    CksumSum s = sum_;
    s.add16(uint16_t(~cksum));
    return s.cksum();
  }

 private:
  CksumSum sum_;
};

}  // namespace fulcrum
