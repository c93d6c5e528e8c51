// SPDX-License-Identifier: Apache-2.0
#include "frame_expect.hpp"

#include <algorithm>
#include <string>

namespace fulcrum::test {

::testing::AssertionResult FrameEq(const char* expected_expr, const char* actual_expr,
                                   const Bytes& expected, const Bytes& actual) {
  if (expected == actual) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << actual_expr << " differs from " << expected_expr
                                       << ":\n"
                                       << hex_diff(expected, actual);
}

void expect_frames(TxBatch& tx, uint16_t port, const std::vector<Bytes>& want) {
  std::vector<Bytes> got = take_output(tx, port);
  EXPECT_EQ(got.size(), want.size()) << "frames sent on port " << port;
  for (size_t i = 0; i < std::max(got.size(), want.size()); i++) {
    SCOPED_TRACE("port " + std::to_string(port) + ", frame " + std::to_string(i));
    EXPECT_PRED_FORMAT2(FrameEq, i < want.size() ? want[i] : Bytes{}, i < got.size() ? got[i] : Bytes{});
  }
}

}  // namespace fulcrum::test
