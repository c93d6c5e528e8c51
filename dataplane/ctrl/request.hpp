// SPDX-License-Identifier: Apache-2.0
//
// Requests from the control thread to one worker.
//
// Some operations need the cooperation of the worker that owns the state
// (dumping its neighbour table, zeroing its counters: nobody else may
// write them). The control thread allocates a Request, passes the pointer
// through the worker's request ring, and later collects it, filled in, from
// the shared completion ring. Nothing waits: the control thread polls.
#pragma once

#include <cstdint>
#include <vector>

#include "net/neigh.hpp"

namespace fulcrum {

enum class RequestKind : uint8_t {
  kDumpNeighbours,  // fills neighbours with the worker's table
  kZeroCounters,    // zeroes the worker's counters
};

struct Request {
  uint64_t id = 0;
  uint32_t worker = 0;
  RequestKind kind = RequestKind::kDumpNeighbours;
  std::vector<NeighInfo> neighbours;  // kDumpNeighbours result
};

}  // namespace fulcrum
