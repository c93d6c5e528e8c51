// SPDX-License-Identifier: Apache-2.0
//
// The state file's gather write goes on from the byte where a short write
// stopped, whichever piece that byte is in.
#include "addon/iov_cursor.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace fulcrum {
namespace {

std::string rest(const IovCursor& c) {
  std::string out;
  for (int i = 0; i < c.count(SIZE_MAX); i++)
    out.append(static_cast<const char*>(c.pieces()[i].iov_base), c.pieces()[i].iov_len);
  return out;
}

TEST(IovCursor, AShortWriteGoesOnFromTheByteWhereItStopped) {
  std::vector<std::string> parts = {"ab", "", "cde", "f"};
  for (size_t n = 0; n <= 6; n++) {
    IovCursor c;
    for (std::string& p : parts) c.add(p.data(), p.size());
    EXPECT_EQ(c.size(), 3u) << "the empty piece is left out";
    c.advance(n);
    EXPECT_EQ(rest(c), std::string("abcdef").substr(n)) << n << " bytes written";
    EXPECT_EQ(c.done(), n == 6);
  }
}

TEST(IovCursor, WritesOfSeveralStepsAndAtMostMaxPiecesEach) {
  std::vector<std::string> parts = {"ab", "cde", "f", "gh"};
  IovCursor c;
  for (std::string& p : parts) c.add(p.data(), p.size());
  EXPECT_EQ(c.count(2), 2);
  c.advance(1);
  EXPECT_EQ(rest(c), "bcdefgh");
  c.advance(3);
  EXPECT_EQ(rest(c), "efgh");
  EXPECT_EQ(c.count(2), 2);
  c.advance(4);
  EXPECT_TRUE(c.done());
  EXPECT_EQ(c.count(2), 0);
}

}  // namespace
}  // namespace fulcrum
