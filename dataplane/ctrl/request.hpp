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
  kDumpConns,       // fills conns with the connections matching conn_filter
};

// Which connections a kDumpConns wants; zero fields match everything.
struct ConnFilter {
  uint32_t service_id = UINT32_MAX;  // UINT32_MAX: any service
  uint32_t dest_id = UINT32_MAX;     // UINT32_MAX: any dest
  uint32_t caddr = 0;                // client prefix, network order
  uint32_t cmask = 0;                // its mask, network order (0: any client)
  int16_t state = -1;                // a TcpState, or -1 for any
  int8_t templates = -1;             // 1: persistence templates only, 0: connections only, -1: both
  uint32_t limit = 100000;           // rows at most (per worker)
};

// One row of a connection dump: what `ipvsadm -L -c` shows.
struct ConnInfo {
  uint8_t proto;
  uint8_t state;        // TcpState
  bool is_template;
  uint32_t caddr, vaddr, daddr;  // network order
  uint16_t cport, vport, dport;
  uint32_t service_id, dest_id;
  uint32_t expires_ms;  // from now
  uint32_t laddr;       // FULLNAT: the local address and port the dest sees; 0 otherwise
  uint16_t lport;
  uint8_t worker;       // the worker whose table holds it
};

struct Request {
  uint64_t id = 0;
  uint32_t worker = 0;
  RequestKind kind = RequestKind::kDumpNeighbours;
  std::vector<NeighInfo> neighbours;  // kDumpNeighbours result
  ConnFilter conn_filter;             // kDumpConns input
  std::vector<ConnInfo> conns;        // kDumpConns result
};

}  // namespace fulcrum
