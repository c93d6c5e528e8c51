// SPDX-License-Identifier: Apache-2.0
//
// The timing wheel: exact firing ticks, lazy refresh by a store, the
// horizon wrap, disarm, the work budget, due and past expiries, callbacks
// that re-arm, and a seeded randomized run of 100k timers against a
// std::multimap model.
#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "ipvs/timer_wheel.hpp"

namespace fulcrum::test {
namespace {

// A TimerNode with an id, standing in for a connection.
struct Item {
  TimerNode timer{};
  uint32_t id = 0;
  uint32_t fired = 0;
  uint64_t fired_at = 0;
};

Item* item_of(TimerNode* n) { return reinterpret_cast<Item*>(n); }  // timer is first

std::vector<Item> make_items(size_t n) {
  std::vector<Item> v(n);
  for (size_t i = 0; i < n; i++) v[i].id = uint32_t(i);
  return v;
}

// Advances one tick at a time from..to and records what fires when.
std::vector<uint32_t> step(TimerWheel& w, uint64_t from, uint64_t to) {
  std::vector<uint32_t> ids;
  for (uint64_t t = from; t <= to; t++)
    w.advance(t, [&](TimerNode* n) {
      Item* it = item_of(n);
      it->fired++;
      it->fired_at = t;
      ids.push_back(it->id);
    });
  return ids;
}

TEST(TimerWheel, GeometryAndTicks) {
  TimerWheel w(10, 4096);
  EXPECT_EQ(w.slots(), 4096u);
  EXPECT_EQ(w.tick_ms(), 10u);
  EXPECT_EQ(TimerWheel(10, 1000).slots(), 1024u);  // rounded up to a power of two
  EXPECT_EQ(TimerWheel(10, 0).slots(), 2u);
  EXPECT_EQ(TimerWheel(0, 8).tick_ms(), 1u);
  EXPECT_EQ(w.ticks(0), 0u);
  EXPECT_EQ(w.ticks(1), 1u);  // rounded up: never early
  EXPECT_EQ(w.ticks(10), 1u);
  EXPECT_EQ(w.ticks(900000), 90000u);
  EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheel, FiresExactlyAtTheTick) {
  TimerWheel w(10, 64);
  auto items = make_items(1);
  w.arm(&items[0].timer, 17);
  EXPECT_TRUE(TimerWheel::armed(&items[0].timer));
  EXPECT_EQ(w.size(), 1u);
  EXPECT_TRUE(step(w, 0, 16).empty());
  EXPECT_EQ(step(w, 17, 17), std::vector<uint32_t>{0});
  EXPECT_FALSE(TimerWheel::armed(&items[0].timer));
  EXPECT_EQ(w.size(), 0u);
  EXPECT_TRUE(step(w, 18, 200).empty());
  EXPECT_EQ(items[0].fired, 1u);
}

TEST(TimerWheel, RefreshByStoreDelaysWithoutMoving) {
  TimerWheel w(10, 64);
  auto items = make_items(1);
  TimerNode* n = &items[0].timer;
  w.arm(n, 10);
  step(w, 0, 5);
  TimerNode* prev = n->prev;
  n->expires = 40;  // what the packet path does
  EXPECT_EQ(n->prev, prev);
  EXPECT_TRUE(step(w, 6, 39).empty());
  EXPECT_EQ(step(w, 40, 40), std::vector<uint32_t>{0});
  EXPECT_EQ(items[0].fired_at, 40u);
}

TEST(TimerWheel, RefreshHelperStoresOrMoves) {
  TimerWheel w(10, 64);
  auto items = make_items(2);
  w.arm(&items[0].timer, 30);
  w.arm(&items[1].timer, 30);
  TimerNode* prev = items[0].timer.prev;
  w.refresh(&items[0].timer, 50);  // later: a store only
  EXPECT_EQ(items[0].timer.prev, prev);
  w.refresh(&items[1].timer, 5);   // earlier: must really move
  EXPECT_EQ(w.size(), 2u);
  step(w, 0, 60);
  EXPECT_EQ(items[0].fired_at, 50u);
  EXPECT_EQ(items[1].fired_at, 5u);
  // refresh() of an unarmed node arms it.
  w.refresh(&items[0].timer, 70);
  EXPECT_EQ(w.size(), 1u);
  step(w, 61, 70);
  EXPECT_EQ(items[0].fired, 2u);
  EXPECT_EQ(items[0].fired_at, 70u);
}

TEST(TimerWheel, ManyNodesInOneSlot) {
  TimerWheel w(10, 16);
  auto items = make_items(1000);
  // Same slot, different turns: 5, 21, 37, ... and many exactly at 5.
  for (size_t i = 0; i < items.size(); i++)
    w.arm(&items[i].timer, i < 500 ? 5 : 5 + 16 * (i % 7));
  step(w, 0, 200);
  for (size_t i = 0; i < items.size(); i++) {
    EXPECT_EQ(items[i].fired, 1u);
    EXPECT_EQ(items[i].fired_at, i < 500 ? 5 : 5 + 16 * (i % 7)) << i;
  }
  EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheel, SameTickFiresInArmOrder) {
  TimerWheel w(10, 16);
  auto items = make_items(5);
  for (uint32_t i : {3u, 1u, 4u, 0u, 2u}) w.arm(&items[i].timer, 9);
  EXPECT_EQ(step(w, 0, 9), (std::vector<uint32_t>{3, 1, 4, 0, 2}));
}

TEST(TimerWheel, BeyondTheHorizonWraps) {
  TimerWheel w(10, 8);  // horizon of 8 ticks
  auto items = make_items(4);
  w.arm(&items[0].timer, 3);
  w.arm(&items[1].timer, 3 + 8);
  w.arm(&items[2].timer, 3 + 8 * 100);
  w.arm(&items[3].timer, 100000);
  step(w, 0, 100000);
  EXPECT_EQ(items[0].fired_at, 3u);
  EXPECT_EQ(items[1].fired_at, 11u);
  EXPECT_EQ(items[2].fired_at, 803u);
  EXPECT_EQ(items[3].fired_at, 100000u);
  for (auto& it : items) EXPECT_EQ(it.fired, 1u);
}

TEST(TimerWheel, LateAdvanceFiresEverythingDueOnce) {
  // The worker was away for several turns of the wheel.
  TimerWheel w(10, 8);
  auto items = make_items(40);
  for (size_t i = 0; i < items.size(); i++) w.arm(&items[i].timer, i * 3);  // 0 .. 117
  std::vector<uint32_t> got;
  w.advance(60, [&](TimerNode* n) { got.push_back(item_of(n)->id); });
  std::sort(got.begin(), got.end());
  std::vector<uint32_t> want;
  for (uint32_t i = 0; i * 3 <= 60; i++) want.push_back(i);
  EXPECT_EQ(got, want);
  EXPECT_TRUE(w.caught_up(60));
  EXPECT_EQ(w.cursor(), 61u);
  // The rest still fire on their tick.
  step(w, 61, 200);
  for (size_t i = 21; i < items.size(); i++) EXPECT_EQ(items[i].fired_at, i * 3) << i;
}

TEST(TimerWheel, HugeGapCostsOneTurn) {
  // A wheel left alone for ages (or a clock jump) must not walk every
  // missed tick: this would take hours if it did.
  TimerWheel w(10, 4096);
  auto items = make_items(2);
  w.arm(&items[0].timer, 123);
  w.arm(&items[1].timer, (uint64_t(1) << 40) + 7);
  EXPECT_EQ(w.advance(uint64_t(1) << 40, [](TimerNode*) {}), 1u);
  EXPECT_EQ(w.cursor(), (uint64_t(1) << 40) + 1);
  EXPECT_EQ(step(w, (uint64_t(1) << 40) + 1, (uint64_t(1) << 40) + 7), std::vector<uint32_t>{1});
}

TEST(TimerWheel, Disarm) {
  TimerWheel w(10, 16);
  auto items = make_items(3);
  for (auto& it : items) w.arm(&it.timer, 7);
  w.disarm(&items[1].timer);
  EXPECT_FALSE(TimerWheel::armed(&items[1].timer));
  EXPECT_EQ(w.size(), 2u);
  w.disarm(&items[1].timer);  // twice: nothing
  EXPECT_EQ(w.size(), 2u);
  EXPECT_EQ(step(w, 0, 40), (std::vector<uint32_t>{0, 2}));
  // Disarm, then arm again.
  w.arm(&items[1].timer, 50);
  w.disarm(&items[1].timer);
  w.arm(&items[1].timer, 45);
  EXPECT_EQ(step(w, 41, 60), std::vector<uint32_t>{1});
  EXPECT_EQ(items[1].fired_at, 45u);
}

TEST(TimerWheel, ArmTwiceMoves) {
  TimerWheel w(10, 16);
  auto items = make_items(1);
  w.arm(&items[0].timer, 20);
  w.arm(&items[0].timer, 4);
  EXPECT_EQ(w.size(), 1u);
  step(w, 0, 40);
  EXPECT_EQ(items[0].fired, 1u);
  EXPECT_EQ(items[0].fired_at, 4u);
}

TEST(TimerWheel, BudgetLimitsWorkAndNextCallContinues) {
  TimerWheel w(10, 16);
  auto items = make_items(250);
  for (size_t i = 0; i < items.size(); i++) w.arm(&items[i].timer, i < 200 ? 5 : 6);
  size_t total = 0;
  auto count = [&](TimerNode*) { total++; };
  EXPECT_EQ(w.advance(10, count, 100), 100u);
  EXPECT_FALSE(w.caught_up(10));
  EXPECT_EQ(w.cursor(), 5u);  // stopped inside tick 5's slot
  EXPECT_EQ(w.size(), 150u);
  EXPECT_EQ(w.advance(10, count, 100), 100u);  // the rest of tick 5
  EXPECT_EQ(w.advance(10, count, 100), 50u);   // tick 6, then caught up
  EXPECT_TRUE(w.caught_up(10));
  EXPECT_EQ(total, 250u);
  EXPECT_EQ(w.size(), 0u);
  for (auto& it : items) EXPECT_FALSE(TimerWheel::armed(&it.timer));
}

TEST(TimerWheel, BudgetKeepsOrderAcrossCalls) {
  TimerWheel w(10, 16);
  auto items = make_items(10);
  for (auto& it : items) w.arm(&it.timer, 3);
  std::vector<uint32_t> got;
  auto rec = [&](TimerNode* n) { got.push_back(item_of(n)->id); };
  while (!w.caught_up(3)) EXPECT_LE(w.advance(3, rec, 3), 3u);
  EXPECT_EQ(got, (std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(TimerWheel, ZeroBudgetDoesNothing) {
  TimerWheel w(10, 16);
  auto items = make_items(1);
  w.arm(&items[0].timer, 0);
  EXPECT_EQ(w.advance(5, [](TimerNode*) {}, 0), 0u);
  EXPECT_EQ(w.size(), 1u);
  EXPECT_EQ(w.advance(5, [](TimerNode*) {}), 1u);
}

TEST(TimerWheel, PastAndCurrentExpiriesFireOnNextAdvance) {
  TimerWheel w(10, 16);
  auto items = make_items(4);
  step(w, 0, 100);
  w.arm(&items[0].timer, 100);  // the tick just processed
  w.arm(&items[1].timer, 3);    // long past
  w.arm(&items[2].timer, 0);
  w.arm(&items[3].timer, 101);  // the next tick
  EXPECT_EQ(step(w, 101, 101), (std::vector<uint32_t>{0, 1, 2, 3}));
  EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheel, PastExpiryAfterBudgetStopIsNotLost) {
  TimerWheel w(10, 16);
  auto items = make_items(5);
  for (size_t i = 0; i < 4; i++) w.arm(&items[i].timer, 2);
  EXPECT_EQ(w.advance(8, [](TimerNode*) {}, 2), 2u);  // stops in tick 2
  w.arm(&items[4].timer, 1);  // already due
  size_t n = w.advance(8, [](TimerNode*) {});
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheel, CallbackRearmForNowWaitsForNextCall) {
  TimerWheel w(10, 16);
  auto items = make_items(1);
  TimerNode* node = &items[0].timer;
  w.arm(node, 4);
  size_t calls = 0;
  auto again = [&](TimerNode* n) {
    calls++;
    w.arm(n, 0);  // due at once: must not loop inside this call
  };
  EXPECT_EQ(w.advance(4, again), 1u);
  EXPECT_EQ(w.size(), 1u);
  EXPECT_EQ(w.advance(5, again), 1u);
  EXPECT_EQ(calls, 2u);
  w.disarm(node);
}

TEST(TimerWheel, CallbackRearmsLaterAndDisarmsOthers) {
  TimerWheel w(10, 8);
  auto items = make_items(6);
  for (auto& it : items) w.arm(&it.timer, 2);
  std::vector<uint32_t> got;
  // Item 0's expiry re-arms it for 2 turns later and cancels items 1 and 2
  // (still queued in the same slot): a connection freeing its dependants.
  auto cb = [&](TimerNode* n) {
    Item* it = item_of(n);
    got.push_back(it->id);
    if (it->id == 0 && it->fired++ == 0) {
      w.arm(n, 2 + 16);
      w.disarm(&items[1].timer);
      w.disarm(&items[2].timer);
    }
  };
  for (uint64_t t = 0; t <= 30; t++) w.advance(t, cb);
  EXPECT_EQ(got, (std::vector<uint32_t>{0, 3, 4, 5, 0}));
  EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheel, StartTick) {
  TimerWheel w(10, 16, 1000000);
  auto items = make_items(2);
  w.arm(&items[0].timer, 1000005);
  w.arm(&items[1].timer, 5);  // before the start: due at once
  EXPECT_EQ(step(w, 1000000, 1000000), std::vector<uint32_t>{1});
  EXPECT_EQ(step(w, 1000001, 1000010), std::vector<uint32_t>{0});
  EXPECT_EQ(items[0].fired_at, 1000005u);
}

// The randomized run. Time moves mostly one tick at a time, sometimes by a
// few, now and then by more than a turn of the wheel; between two advances
// new timers are armed (some already due), live ones are refreshed (by
// refresh(): later by a store, earlier by a move) and some are disarmed.
// The model is a multimap expires -> id; after advance(now) exactly the
// ids with expires <= now must have fired, each once.
struct Model {
  std::multimap<uint64_t, uint32_t> due;
  std::vector<std::multimap<uint64_t, uint32_t>::iterator> where;
  std::vector<bool> live;

  explicit Model(size_t n) : where(n), live(n, false) {}
  void set(uint32_t id, uint64_t expires) {
    if (live[id]) due.erase(where[id]);
    where[id] = due.emplace(expires, id);
    live[id] = true;
  }
  void drop(uint32_t id) {
    if (live[id]) due.erase(where[id]);
    live[id] = false;
  }
  // Ids due by now, sorted, removed from the model.
  std::vector<uint32_t> take(uint64_t now) {
    std::vector<uint32_t> ids;
    auto end = due.upper_bound(now);
    for (auto it = due.begin(); it != end; ++it) {
      ids.push_back(it->second);
      live[it->second] = false;
    }
    due.erase(due.begin(), end);
    std::sort(ids.begin(), ids.end());
    return ids;
  }
};

void randomized(uint32_t seed, size_t budget) {
  constexpr size_t kNodes = 100000;
  constexpr uint64_t kSpan = 3000;  // expiries up to ~3 turns ahead
  TimerWheel w(10, 1024);
  auto items = make_items(kNodes);
  Model model(kNodes);
  std::mt19937_64 rng(seed);
  auto uniform = [&](uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
  };

  uint64_t now = 0;
  size_t next_new = 0;
  std::vector<uint32_t> live_ids;  // may hold stale ids; checked against the model
  uint64_t total_fired = 0;
  while (next_new < kNodes || !model.due.empty()) {
    // Arm a few new ones; 1 in 20 already due (past or current tick).
    for (int k = 0; k < 12 && next_new < kNodes; k++, next_new++) {
      uint32_t id = uint32_t(next_new);
      uint64_t e = uniform(0, 19) == 0 ? now - std::min<uint64_t>(now, uniform(0, 5))
                                       : now + uniform(1, kSpan);
      w.arm(&items[id].timer, e);
      model.set(id, e);
      live_ids.push_back(id);
    }
    // Refresh some live ones, mostly later (a packet), sometimes earlier
    // (a state with a shorter timeout); disarm a few. Only while arming, so
    // that the run drains.
    for (int k = 0; k < 20 && next_new < kNodes && !live_ids.empty(); k++) {
      size_t pick = size_t(uniform(0, live_ids.size() - 1));
      uint32_t id = live_ids[pick];
      if (!model.live[id]) {
        live_ids[pick] = live_ids.back();
        live_ids.pop_back();
        continue;
      }
      uint64_t r = uniform(0, 99);
      if (r < 3) {
        w.disarm(&items[id].timer);
        model.drop(id);
      } else {
        uint64_t e = r < 80 ? items[id].timer.expires + uniform(0, 500) : now + uniform(1, kSpan);
        w.refresh(&items[id].timer, e);
        model.set(id, e);
      }
    }
    ASSERT_EQ(w.size(), model.due.size());

    uint64_t r = uniform(0, 999);
    now += r < 900 ? 1 : r < 995 ? uniform(2, 20) : uniform(1000, 2500);
    std::vector<uint32_t> got;
    auto rec = [&](TimerNode* n) {
      Item* it = item_of(n);
      it->fired++;
      got.push_back(it->id);
    };
    do {
      size_t n = w.advance(now, rec, budget);
      ASSERT_LE(n, budget);
    } while (!w.caught_up(now));
    std::sort(got.begin(), got.end());
    std::vector<uint32_t> want = model.take(now);
    ASSERT_EQ(got, want) << "at tick " << now;
    total_fired += got.size();
  }
  EXPECT_EQ(w.size(), 0u);
  uint64_t disarmed = 0;
  for (auto& it : items) {
    ASSERT_LE(it.fired, 1u) << it.id;
    disarmed += it.fired == 0;
    ASSERT_FALSE(TimerWheel::armed(&it.timer));
  }
  EXPECT_EQ(total_fired + disarmed, kNodes);
  EXPECT_GT(total_fired, kNodes * 9 / 10);
}

TEST(TimerWheel, RandomizedAgainstModel) { randomized(20240601, SIZE_MAX); }

// The same with a small budget: advance() is called again until it caught
// up, and the union of the calls must still be exactly the due set.
TEST(TimerWheel, RandomizedAgainstModelWithBudget) { randomized(7, 5); }

}  // namespace
}  // namespace fulcrum::test
