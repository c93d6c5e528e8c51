// SPDX-License-Identifier: Apache-2.0
//
// The publisher's one promise: a snapshot a worker may still be reading is
// never freed, and one no worker can see any more is freed by the next
// reclaim(). A std::thread plays worker 0; each snapshot owns a RouteTable
// with a unique name, so rte_lpm_find_existing tells whether it still
// exists.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <rte_lpm.h>

#include "ctrl/publisher.hpp"
#include "packet_builder.hpp"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

// Polls cond for up to five seconds, so a broken test fails, not hangs.
template <class Cond>
bool eventually(Cond cond) {
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// A snapshot whose existence can be observed through its route table.
struct Observed {
  std::string name;
  std::unique_ptr<Snapshot> snap;
  bool alive() const { return rte_lpm_find_existing(name.c_str()) != nullptr; }
};

Observed make_snapshot(uint64_t gen) {
  Observed o{unique_name("pub_rt"), std::make_unique<Snapshot>()};
  o.snap->generation = gen;
  std::string err;
  o.snap->routes = RouteTable::create(o.name.c_str(), 8, SOCKET_ID_ANY, err);
  EXPECT_NE(o.snap->routes, nullptr) << err;
  return o;
}

// Worker 0: each loop iteration reads current() and reports a quiescent
// state, like the engine's worker loop. hold() parks it mid-iteration,
// still using the snapshot it read, until release().
class Reader {
 public:
  explicit Reader(Publisher& pub) : pub_(pub), thread_([this] { run(); }) {}
  ~Reader() { stop(); }

  // Returns the generation of the snapshot the reader now holds.
  uint64_t hold() {
    pause_ = true;
    EXPECT_TRUE(eventually([&] { return held_gen_.load() != 0; })) << "reader never paused";
    return held_gen_;
  }
  // Lets the reader go on and waits for its next quiescent state.
  void release() {
    uint64_t q = quiescents_;
    pause_ = false;
    EXPECT_TRUE(eventually([&] { return quiescents_.load() > q; })) << "reader stuck";
  }
  bool sees(uint64_t gen) {
    return eventually([&] { return last_gen_.load() == gen; });
  }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // False if the reader ever found its held snapshot changed under it.
  bool held_intact() const { return intact_; }

 private:
  void run() {
    pub_.online(0);
    while (!stop_) {
      const Snapshot* s = pub_.current();
      uint64_t gen = s ? s->generation : 0;
      last_gen_ = gen;
      if (pause_ && s != nullptr) {
        held_gen_ = gen;
        while (pause_ && !stop_) {
          // Keep using the snapshot, as a worker mid-burst would.
          if (s->generation != gen || s->routes == nullptr) intact_ = false;
          std::this_thread::sleep_for(100us);
        }
        held_gen_ = 0;
      }
      pub_.quiescent(0);
      quiescents_++;
      std::this_thread::yield();
    }
    pub_.offline(0);
  }

  Publisher& pub_;
  std::atomic<bool> stop_{false}, pause_{false}, intact_{true};
  std::atomic<uint64_t> held_gen_{0}, last_gen_{0}, quiescents_{0};
  std::thread thread_;  // last: starts after the state above exists
};

std::unique_ptr<Publisher> make_publisher() {
  std::string err;
  auto p = Publisher::create(1, err);
  EXPECT_NE(p, nullptr) << err;
  return p;
}

TEST(Publisher, HeldSnapshotLivesUntilTheReaderIsQuiescent) {
  auto pub = make_publisher();
  Observed s1 = make_snapshot(1), s2 = make_snapshot(2);
  pub->publish(std::move(s1.snap));
  Reader reader(*pub);
  ASSERT_EQ(reader.hold(), 1u);

  pub->publish(std::move(s2.snap));
  EXPECT_EQ(pub->current()->generation, 2u);
  EXPECT_EQ(pub->reclaim(), 1u);
  std::this_thread::sleep_for(5ms);
  EXPECT_EQ(pub->reclaim(), 1u) << "time alone must not free a held snapshot";
  EXPECT_TRUE(s1.alive());

  reader.release();
  EXPECT_EQ(pub->reclaim(), 0u);
  EXPECT_FALSE(s1.alive());
  EXPECT_TRUE(s2.alive());
  EXPECT_TRUE(reader.sees(2));
  EXPECT_TRUE(reader.held_intact());

  reader.stop();
  pub.reset();
  EXPECT_FALSE(s2.alive()) << "the publisher frees the current snapshot on destruction";
}

// Snapshots published while the reader sat on an older one were never
// seen by it, but the reader has not proved it let go of anything yet:
// all of them wait for its quiescent state, then all go at once. (Three
// snapshots: each route table's rte_lpm takes 64 MiB of EAL memory.)
TEST(Publisher, EverySnapshotRetiredDuringAHoldWaitsForIt) {
  auto pub = make_publisher();
  Observed s[3] = {make_snapshot(1), make_snapshot(2), make_snapshot(3)};
  pub->publish(std::move(s[0].snap));
  Reader reader(*pub);
  ASSERT_EQ(reader.hold(), 1u);
  for (int i = 1; i < 3; i++) pub->publish(std::move(s[i].snap));
  EXPECT_EQ(pub->reclaim(), 2u);
  for (int i = 0; i < 3; i++) EXPECT_TRUE(s[i].alive()) << i;

  reader.release();
  EXPECT_EQ(pub->reclaim(), 0u);
  EXPECT_FALSE(s[0].alive());
  EXPECT_FALSE(s[1].alive()) << "retired without ever being read";
  EXPECT_TRUE(s[2].alive());
  reader.stop();
}

TEST(Publisher, RunningReaderLetsRetiredSnapshotsGo) {
  auto pub = make_publisher();
  Observed s1 = make_snapshot(1), s2 = make_snapshot(2);
  pub->publish(std::move(s1.snap));
  Reader reader(*pub);
  ASSERT_TRUE(reader.sees(1));
  pub->publish(std::move(s2.snap));
  EXPECT_TRUE(eventually([&] { return pub->reclaim() == 0; }));
  EXPECT_FALSE(s1.alive());
  EXPECT_TRUE(reader.sees(2));
}

// An offline worker (stopped, or never started) holds nothing.
TEST(Publisher, OfflineReaderDoesNotDelayReclaim) {
  auto pub = make_publisher();
  Observed s1 = make_snapshot(1), s2 = make_snapshot(2), s3 = make_snapshot(3);
  pub->publish(std::move(s1.snap));
  pub->publish(std::move(s2.snap));  // publish reclaims on its own
  EXPECT_FALSE(s1.alive()) << "no worker was ever online";
  {
    Reader reader(*pub);
    ASSERT_TRUE(reader.sees(2));
  }  // offline again
  pub->publish(std::move(s3.snap));
  EXPECT_EQ(pub->reclaim(), 0u);
  EXPECT_FALSE(s2.alive());
  EXPECT_TRUE(s3.alive());
}

}  // namespace
}  // namespace fulcrum::test
