// SPDX-License-Identifier: Apache-2.0
//
// Per-worker statistics of services and dests.
//
// Every worker owns one row per service id and one per dest id (ids are
// stable across snapshots, see service.hpp) and is the only writer of its
// rows; the control thread and the other workers read them without locks.
// Rows are cache-line aligned so workers never write a shared line. The
// control plane sums the rows over workers for users; schedulers sum a
// dest's active/inactive counts the same way (an approximation: another
// worker's row may be a few packets old). Layouts are X-macro lists, the
// single source of the names TypeScript reads.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fulcrum {

// active/inactive/persistent/live are gauges; the rest count up. A
// service's `live` is the connections that still refer to it: its id is
// reused only once that is zero everywhere.
// resets and syn_timeouts feed passive health checks: connections the
// dest refused (an RST before it answered the SYN) or never answered
// (expired half-open).
#define FULCRUM_DEST_STATS(X) \
  X(active) X(inactive) X(persistent) X(conns) X(inpkts) X(outpkts) X(inbytes) X(outbytes) \
  X(resets) X(syn_timeouts)
#define FULCRUM_SERVICE_STATS(X) X(conns) X(live) X(inpkts) X(outpkts) X(inbytes) X(outbytes)
// Per local address (FULLNAT/SNAT pool) and worker: ports in use (a gauge),
// ports this worker owns on it (its capacity, set at first use), flows
// refused because every port was taken, and connections made.
#define FULCRUM_LADDR_STATS(X) X(used) X(capacity) X(exhausted) X(conns)

enum class DestStat : uint32_t {
#define FULCRUM_STAT_ENUM(name) name,
  FULCRUM_DEST_STATS(FULCRUM_STAT_ENUM)
      count
};
enum class ServiceStat : uint32_t {
  FULCRUM_SERVICE_STATS(FULCRUM_STAT_ENUM)
      count
};
enum class LaddrStat : uint32_t {
  FULCRUM_LADDR_STATS(FULCRUM_STAT_ENUM)
      count
#undef FULCRUM_STAT_ENUM
};

extern const char* const kDestStatNames[size_t(DestStat::count)];
extern const char* const kServiceStatNames[size_t(ServiceStat::count)];
extern const char* const kLaddrStatNames[size_t(LaddrStat::count)];

template <class E>
struct alignas(64) StatRow {
  static constexpr size_t kCount = size_t(E::count);
  uint64_t v[kCount < 8 ? 8 : (kCount + 7) / 8 * 8];  // whole cache lines

  void add(E e, uint64_t n = 1) { v[size_t(e)] += n; }
  void sub(E e, uint64_t n = 1) { v[size_t(e)] -= n; }
  uint64_t get(E e) const { return v[size_t(e)]; }
};

using DestStats = StatRow<DestStat>;
using ServiceStats = StatRow<ServiceStat>;
using LaddrStats = StatRow<LaddrStat>;
static_assert(sizeof(DestStats) % 64 == 0 && sizeof(ServiceStats) == 64 && sizeof(LaddrStats) == 64);

}  // namespace fulcrum
