// SPDX-License-Identifier: Apache-2.0
//
// The pieces of a gather write still to go. writev takes at most IOV_MAX
// pieces a call and may write fewer bytes than asked; the rest then
// starts inside a piece. durable_write.cpp writes the state file with it.
#pragma once

#include <sys/uio.h>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace fulcrum {

class IovCursor {
 public:
  // Empty pieces are left out: a writev of only those would write nothing.
  void add(void* base, size_t len) {
    if (len > 0) iov_.push_back({base, len});
  }
  bool done() const { return first_ == iov_.size(); }
  // The pieces left, at most `max` of them, for the next writev.
  const iovec* pieces() const { return iov_.data() + first_; }
  int count(size_t max) const { return int(std::min(iov_.size() - first_, max)); }
  // n bytes of pieces() were written.
  void advance(size_t n) {
    while (n > 0 && !done()) {
      iovec& v = iov_[first_];
      size_t step = std::min(n, v.iov_len);
      v.iov_base = static_cast<char*>(v.iov_base) + step;
      v.iov_len -= step;
      n -= step;
      if (v.iov_len == 0) first_++;
    }
  }
  size_t size() const { return iov_.size(); }
  void reserve(size_t n) { iov_.reserve(n); }

 private:
  std::vector<iovec> iov_;
  size_t first_ = 0;
};

}  // namespace fulcrum
