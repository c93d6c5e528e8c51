// SPDX-License-Identifier: Apache-2.0
//
// Received packets for the fuzz targets and the tests of what they found.
//
// DPDK's mbufs live in memory ASan knows nothing about: a read past the end
// of a frame lands in the mbuf's unused tailroom and goes unnoticed. So
// received packets come from a pool of their own, with every byte of each
// segment after the frame's data poisoned; ASan then reports any access
// past the frame as if the frame had been malloc'd with its exact size
// (without ASan, poisoning does nothing). Headroom stays usable (TUN
// prepends its outer header there, legitimately). Nothing else allocates
// from this pool (packets the dataplane originates come from
// WorkerCtx::pool), so a poisoned buffer is only ever reused through
// rx_mbuf(), which unpoisons it first.
#pragma once

#include <cstddef>
#include <cstdint>

#include <rte_mbuf.h>
#include <rte_mempool.h>

namespace fulcrum::test {

// The pool of received packets (created on first use).
rte_mempool* rx_pool();

// A packet holding frame[0, len): one segment, or two when 0 < split < len
// (the first split bytes, then the rest). Aborts when the pool is empty,
// which only a leak can cause.
rte_mbuf* rx_mbuf(const uint8_t* frame, size_t len, size_t split);

// True when the pool has every mbuf back.
bool rx_pool_full();

}  // namespace fulcrum::test
