// SPDX-License-Identifier: Apache-2.0
//
// A hashed timing wheel for connection expiry, one per worker.
//
// Time is counted in ticks of a fixed length. The wheel is a power-of-two
// array of slots, each an intrusive circular list of TimerNodes; a node
// expiring at tick e sits in slot e mod slots. advance(now) visits the
// slots of the ticks since the last call, in order, and looks at every node
// found there:
//
//  - expires <= now: the node is unlinked and handed to on_expire;
//  - expires >  now: the node is moved to the slot of its expires.
//
// The second case gives two things for free. Expiries beyond the horizon
// (slots x tick) need no overflow list: such a node is met once per turn of
// the wheel and put back until its turn comes. And refreshing a timer costs
// one store: a connection's packet writes expires = now + timeout and does
// not touch the lists (lazy re-arm); the node is moved when its old slot
// comes round. That store may only push expires later; refresh() below
// does the store when it can and a real move when the new expiry is
// earlier (a state change to a shorter timeout).
//
// Invariant: a node in slot s is visited at the first tick >= cursor with
// tick mod slots == s, and that tick is never after its expires. arm()
// keeps it by putting expiries that are already due (before the cursor)
// into the slot about to be visited; during advance() "about to be visited"
// means the next tick's slot, so a callback that re-arms its node for now
// waits for the next call instead of looping.
//
// Work is bounded: advance() fires at most `budget` nodes and, when it stops
// early, remembers where (the rest of the slot is put back at its front)
// and continues there on the next call, so a mass expiry is spread over
// several passes of the worker loop instead of stalling it. A call that
// comes more than a whole turn late visits each slot once: comparing with
// now, not with the slot's tick, is what makes that enough.
//
// No allocation after construction; no locks (one owner thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fulcrum {

// Embedded in whatever expires (a connection). Zeroed memory is an
// unarmed node.
struct TimerNode {
  TimerNode* prev;   // nullptr while not armed
  TimerNode* next;
  uint64_t expires;  // wheel tick
};
static_assert(sizeof(TimerNode) <= 24, "TimerNode is embedded in every connection");

class TimerWheel {
 public:
  // tick_ms: the length of a tick (at least 1). slots is rounded up to a
  // power of two (at least 2). start_tick: the first tick advance() visits.
  TimerWheel(uint32_t tick_ms, uint32_t slots, uint64_t start_tick = 0);
  // Slot heads point at themselves: no copies. Nodes still armed when the
  // wheel goes away are simply forgotten.
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  uint32_t tick_ms() const { return tick_ms_; }
  uint32_t slots() const { return uint32_t(mask_ + 1); }
  // A duration in whole ticks, rounded up so that nothing fires early.
  uint64_t ticks(uint64_t ms) const { return (ms + tick_ms_ - 1) / tick_ms_; }

  static bool armed(const TimerNode* n) { return n->prev != nullptr; }

  // Schedules n for tick expires; an armed n is moved. O(1).
  void arm(TimerNode* n, uint64_t expires) {
    if (armed(n)) unlink(n);
    else size_++;
    n->expires = expires;
    link_tail(&slots_[slot_tick(expires) & mask_], n);
  }

  // Cancels n; nothing when it is not armed. O(1).
  void disarm(TimerNode* n) {
    if (!armed(n)) return;
    unlink(n);
    size_--;
  }

  // The packet path's refresh: a store when expires does not move earlier
  // (the node is moved lazily, see above), arm() otherwise.
  void refresh(TimerNode* n, uint64_t expires) {
    if (armed(n) && expires >= n->expires) n->expires = expires;
    else arm(n, expires);
  }

  // Visits the slots of the ticks up to now and calls on_expire(TimerNode*)
  // for each node whose expires <= now, at most budget times. The node is
  // unlinked before the call; on_expire may free it, arm it again, or arm
  // and disarm other nodes. Returns the number of calls.
  template <class F>
  size_t advance(uint64_t now, F&& on_expire, size_t budget = SIZE_MAX);

  // Armed nodes.
  size_t size() const { return size_; }
  // The next tick advance() will visit: past now when it caught up.
  uint64_t cursor() const { return cursor_; }
  bool caught_up(uint64_t now) const { return cursor_ > now; }

 private:
  static void link_tail(TimerNode* head, TimerNode* n) {
    n->prev = head->prev;
    n->next = head;
    head->prev->next = n;
    head->prev = n;
  }
  static void unlink(TimerNode* n) {
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = nullptr;
  }
  static bool empty(const TimerNode* head) { return head->next == head; }
  static void init_head(TimerNode* head) { head->prev = head->next = head; }
  // Moves all of from's nodes into the empty list to.
  static void take_all(TimerNode* from, TimerNode* to);
  // Moves all of from's nodes to the front of to, in order.
  static void put_front(TimerNode* from, TimerNode* to);

  // The tick whose slot an expiry goes in: due ones go to the next slot
  // visited.
  uint64_t slot_tick(uint64_t expires) const { return expires < floor_ ? floor_ : expires; }

  // Works through one slot; false when the budget ran out first.
  template <class F>
  bool run_slot(uint64_t now, F& on_expire, size_t budget, size_t& fired);

  std::vector<TimerNode> slots_;  // list heads
  uint64_t mask_;
  uint64_t cursor_;  // next tick to visit
  uint64_t floor_;   // earliest tick an arm() may still be visited at
  size_t size_ = 0;
  uint32_t tick_ms_;
};

template <class F>
size_t TimerWheel::advance(uint64_t now, F&& on_expire, size_t budget) {
  size_t fired = 0;
  // More than a turn late: one visit per slot covers everything (see above).
  if (cursor_ <= now && now - cursor_ > mask_) cursor_ = now - mask_;
  while (cursor_ <= now) {
    floor_ = cursor_ + 1;
    if (!run_slot(now, on_expire, budget, fired)) {
      floor_ = cursor_;  // the slot is not done: new due nodes join it
      return fired;
    }
    cursor_++;
  }
  floor_ = cursor_;
  return fired;
}

template <class F>
bool TimerWheel::run_slot(uint64_t now, F& on_expire, size_t budget, size_t& fired) {
  TimerNode* head = &slots_[cursor_ & mask_];
  if (empty(head)) return true;
  // Work on a private list: nodes put back in this very slot (due a turn or
  // more later) must not be met again in this pass. on_expire may unlink
  // any node of it; taking the front each time stays valid whatever it does.
  TimerNode pending;
  take_all(head, &pending);
  while (!empty(&pending)) {
    TimerNode* n = pending.next;
    if (n->expires > now) {  // refreshed, or beyond the horizon
      unlink(n);
      link_tail(&slots_[n->expires & mask_], n);
      continue;
    }
    if (fired == budget) {
      put_front(&pending, head);
      return false;
    }
    unlink(n);
    size_--;
    fired++;
    on_expire(n);
  }
  return true;
}

}  // namespace fulcrum
