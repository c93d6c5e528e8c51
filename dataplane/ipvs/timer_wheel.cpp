// SPDX-License-Identifier: Apache-2.0
#include "ipvs/timer_wheel.hpp"

#include <algorithm>
#include <bit>

namespace fulcrum {

TimerWheel::TimerWheel(uint32_t tick_ms, uint32_t slots, uint64_t start_tick)
    : slots_(std::bit_ceil(std::max<uint64_t>(slots, 2))),
      mask_(slots_.size() - 1),
      cursor_(start_tick),
      floor_(start_tick),
      tick_ms_(std::max<uint32_t>(tick_ms, 1)) {
  for (TimerNode& head : slots_) init_head(&head);
}

void TimerWheel::take_all(TimerNode* from, TimerNode* to) {
  if (empty(from)) {
    init_head(to);
    return;
  }
  to->next = from->next;
  to->prev = from->prev;
  to->next->prev = to;
  to->prev->next = to;
  init_head(from);
}

void TimerWheel::put_front(TimerNode* from, TimerNode* to) {
  if (empty(from)) return;
  TimerNode* first = from->next;
  TimerNode* last = from->prev;
  last->next = to->next;
  to->next->prev = last;
  to->next = first;
  first->prev = to;
  init_head(from);
}

}  // namespace fulcrum
