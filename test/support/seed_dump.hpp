// SPDX-License-Identifier: Apache-2.0
//
// The fuzz targets' seed corpus is written from the golden tests: every
// burst a test feeds (feed_burst) is, when FULCRUM_SEED_DIR is set, also
// written as seeds, so the corpus follows the tests as they change and no
// binary blob is ever checked in. The fuzz build runs the test binary so
// (fuzz/CMakeLists.txt, target fuzz_seeds).
#pragma once

#include <cstdint>
#include <vector>

#include "packet_builder.hpp"

namespace fulcrum::test {

// With FULCRUM_SEED_DIR set, writes frames, one burst received on port:
//   $FULCRUM_SEED_DIR/parse/<hash>  each frame, in parse_fuzz's format
//   $FULCRUM_SEED_DIR/ipvs/<hash>   the burst, in ipvs_fuzz's format, with
//                                   the checksum-fixing bits set for the
//                                   checksums the frame already has right
// Named by content, so a frame many tests send is written once. Does
// nothing without the variable.
void dump_seeds(uint16_t port, const std::vector<Bytes>& frames);

}  // namespace fulcrum::test
