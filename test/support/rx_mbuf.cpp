// SPDX-License-Identifier: Apache-2.0
#include "rx_mbuf.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <sanitizer/asan_interface.h>

namespace fulcrum::test {
namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "FATAL: %s\n", what);
  std::abort();
}

constexpr unsigned kRxMbufs = 255;  // a burst is 32; a few held for ARP at most

rte_mbuf* segment(const uint8_t* data, size_t len) {
  rte_mbuf* m = rte_pktmbuf_alloc(rx_pool());
  if (m == nullptr) fail("rx pool empty: received packets leak");
  ASAN_UNPOISON_MEMORY_REGION(m->buf_addr, m->buf_len);
  char* p = rte_pktmbuf_append(m, uint16_t(len));
  if (p == nullptr) fail("frame longer than an mbuf");
  if (len > 0) std::memcpy(p, data, len);  // data may be null then
  ASAN_POISON_MEMORY_REGION(p + len, rte_pktmbuf_tailroom(m));
  return m;
}

}  // namespace

rte_mempool* rx_pool() {
  static rte_mempool* pool = rte_pktmbuf_pool_create("test_rx", kRxMbufs, 0, 0,
                                                     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (pool == nullptr) fail("cannot create the rx pool");
  return pool;
}

rte_mbuf* rx_mbuf(const uint8_t* frame, size_t len, size_t split) {
  if (split == 0 || split >= len) return segment(frame, len);
  rte_mbuf* head = segment(frame, split);
  if (rte_pktmbuf_chain(head, segment(frame + split, len - split)) != 0)
    fail("cannot chain two segments");
  return head;
}

bool rx_pool_full() { return rte_mempool_avail_count(rx_pool()) == kRxMbufs; }

}  // namespace fulcrum::test
