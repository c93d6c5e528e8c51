// SPDX-License-Identifier: Apache-2.0
//
// GoogleTest assertions over frames and mbufs: exact output frames with a
// readable hex diff, and mbuf leak checks. The frames themselves come from
// packet_builder.hpp (test/support), which the fuzz targets share.
#pragma once

#include <vector>

#include <gtest/gtest.h>
#include <rte_mempool.h>

#include "packet_builder.hpp"

namespace fulcrum::test {

// Takes port's output and compares it frame by frame with want.
void expect_frames(TxBatch& tx, uint16_t port, const std::vector<Bytes>& want);

// EXPECT_PRED_FORMAT2(FrameEq, expected, actual): exact byte comparison
// with a readable diff on failure.
::testing::AssertionResult FrameEq(const char* expected_expr, const char* actual_expr,
                                   const Bytes& expected, const Bytes& actual);

// Asserts at the end of a scope that the test pool got every mbuf back.
class PoolLeakCheck {
 public:
  PoolLeakCheck() : start_(rte_mempool_avail_count(test_pool())) {}
  ~PoolLeakCheck() {
    EXPECT_EQ(rte_mempool_avail_count(test_pool()), start_) << "mbufs leaked from the test pool";
  }
  unsigned start() const { return start_; }

 private:
  unsigned start_;
};

}  // namespace fulcrum::test
