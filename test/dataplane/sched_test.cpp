// SPDX-License-Identifier: Apache-2.0
//
// Schedulers: each test builds a scheduler through the registry, as the
// dataplane does, and drives pick() with hand-made dest lists and loads.
// Dests are named A, B, C... by list position, so an expected pick order
// reads as a string ("AABABCABC"); '-' is "no dest". The load pointer is
// only passed to schedulers that declare needs_load(), so one that reads
// counts without declaring it crashes here rather than in production.
#include <algorithm>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rte_byteorder.h>

#include "packet_builder.hpp"
#include "sched/buckets.hpp"
#include "sched/maglev.hpp"
#include "sched/scheduler.hpp"

namespace fulcrum::test {
namespace {

// Dest i of a list: address 10.1.0.(i+1), port 80.
SchedDest dest(uint32_t i, uint32_t weight = 1) {
  return SchedDest{rte_cpu_to_be_32((10u << 24) | (1u << 16) | (i + 1)), rte_cpu_to_be_16(80),
                   weight, true, false};
}

std::vector<SchedDest> dests_weighted(std::vector<uint32_t> weights) {
  std::vector<SchedDest> d;
  for (uint32_t i = 0; i < weights.size(); ++i) d.push_back(dest(i, weights[i]));
  return d;
}

std::vector<SchedDest> dests_equal(uint32_t n) { return dests_weighted(std::vector<uint32_t>(n, 1)); }

std::unique_ptr<Scheduler> build(std::string_view name, const std::vector<SchedDest>& dests,
                                 const SchedOptions& opts = {}) {
  std::string err;
  auto s = make_scheduler(name, dests, opts, err);
  EXPECT_NE(s, nullptr) << name << ": " << err;
  return s;
}

// One service as one worker sees it: dests, their loads, the scheduler
// and this worker's state.
struct Svc {
  std::vector<SchedDest> dests;
  std::vector<DestLoad> load;
  std::unique_ptr<Scheduler> sched;
  std::unique_ptr<SchedState> state;
  SchedInput in{};

  Svc(std::string_view name, std::vector<SchedDest> d, const SchedOptions& opts = {},
      uint32_t worker = 0, uint32_t workers = 1)
      : dests(std::move(d)), load(dests.size(), DestLoad{0, 0}), sched(build(name, dests, opts)) {
    if (sched) state = sched->make_state(worker, workers);
    in.proto = IPPROTO_TCP;
    in.caddr = ip("192.168.0.1");
    in.cport = rte_cpu_to_be_16(40000);
    in.vaddr = ip("10.0.0.100");
    in.vport = rte_cpu_to_be_16(80);
  }

  int32_t pick() {
    in.dests = dests.data();
    in.ndests = uint32_t(dests.size());
    in.load = sched->needs_load() ? load.data() : nullptr;
    return sched->pick(in, state.get());
  }
  int32_t pick_client(uint32_t caddr, uint16_t cport = 40000) {
    in.caddr = caddr;
    in.cport = rte_cpu_to_be_16(cport);
    return pick();
  }
  int32_t pick_at(uint64_t now_ms) {
    in.now_ms = now_ms;
    return pick();
  }
  void active(uint32_t i, uint32_t n) { load[i].active = n; }
};

char letter(int32_t d) { return d < 0 ? '-' : char('A' + d); }

// The next n picks as letters.
std::string picks(Svc& s, int n) {
  std::string out;
  for (int k = 0; k < n; ++k) out += letter(s.pick());
  return out;
}

// Picks per dest over n picks.
std::vector<int> counts(Svc& s, int n) {
  std::vector<int> c(s.dests.size(), 0);
  for (int k = 0; k < n; ++k) {
    int32_t d = s.pick();
    if (d >= 0) ++c[d];
  }
  return c;
}

// Client address number k (network order), spread over 10.x.y.z.
uint32_t client(uint32_t k) { return rte_cpu_to_be_32((10u << 24) + k * 7919u + 1); }

const std::vector<std::string> kAllNames = {"rr",    "wrr", "lc", "wlc", "sed", "nq", "lblc",
                                            "lblcr", "dh",  "sh", "mh",  "fo",  "ovf", "twos"};

// ---------------------------------------------------------------- registry

TEST(SchedRegistry, KnowsAllFourteenInOrder) {
  EXPECT_EQ(scheduler_names(), kAllNames);
  for (const std::string& name : kAllNames) {
    std::string err;
    EXPECT_NE(make_scheduler(name, dests_equal(3), SchedOptions{}, err), nullptr) << name;
    EXPECT_EQ(err, "") << name;
  }
}

TEST(SchedRegistry, UnknownNameIsAnError) {
  std::string err;
  EXPECT_EQ(make_scheduler("wlcx", dests_equal(2), SchedOptions{}, err), nullptr);
  EXPECT_NE(err.find("unknown scheduler 'wlcx'"), std::string::npos) << err;
  EXPECT_NE(err.find("rr, wrr, lc"), std::string::npos) << "lists the known ones: " << err;
}

TEST(SchedRegistry, NoUsableDestGivesMinusOne) {
  for (const std::string& name : kAllNames) {
    Svc none(name, {});
    EXPECT_EQ(none.pick(), -1) << name << " with no dests";
    Svc quiesced(name, dests_weighted({0, 0}));
    EXPECT_EQ(quiesced.pick(), -1) << name << " with weights 0";
    Svc down(name, dests_equal(2));
    for (auto& d : down.dests) d.available = false;
    EXPECT_EQ(down.pick(), -1) << name << " with dests unavailable";
    Svc full(name, dests_equal(2));
    for (auto& d : full.dests) d.overloaded = true;
    EXPECT_EQ(full.pick(), -1) << name << " with dests overloaded";
  }
}

// ---------------------------------------------------------------- rr, wrr

TEST(SchedRr, CyclesInListOrder) {
  Svc s("rr", dests_weighted({1, 5, 2}));  // weights do not matter
  EXPECT_EQ(picks(s, 7), "ABCABCA");
}

TEST(SchedRr, SkipsWeightZeroUnavailableAndOverloaded) {
  Svc s("rr", dests_equal(5));
  s.dests[1].weight = 0;
  s.dests[3].available = false;
  s.dests[4].overloaded = true;
  EXPECT_EQ(picks(s, 4), "ACAC");
  s.dests[3].available = true;  // back: rejoins the rotation after C
  EXPECT_EQ(picks(s, 3), "DAC");
}

TEST(SchedRr, WorkersStartAtDifferentDests) {
  Svc w0("rr", dests_equal(4), {}, 0, 2);
  Svc w1("rr", dests_equal(4), {}, 1, 2);
  EXPECT_EQ(picks(w0, 4), "ABCD");
  EXPECT_EQ(picks(w1, 4), "CDAB");
}

TEST(SchedWrr, WeightsFourThreeTwoInterleave) {
  Svc s("wrr", dests_weighted({4, 3, 2}));
  EXPECT_EQ(picks(s, 18), "AABABCABCAABABCABC");
}

TEST(SchedWrr, GcdStepsAndWeightZeroNeverChosen) {
  Svc s("wrr", dests_weighted({4, 0, 2}));  // gcd 2: levels 4 and 2
  EXPECT_EQ(picks(s, 6), "AACAAC");
}

TEST(SchedWrr, ProportionsOverManyPicks) {
  Svc s("wrr", dests_weighted({5, 3, 1, 0}));
  EXPECT_EQ(counts(s, 9000), (std::vector<int>{5000, 3000, 1000, 0}));
}

TEST(SchedWrr, SkipsUnusableDestsKeepingTheOthersOrder) {
  Svc s("wrr", dests_weighted({4, 3, 2}));
  s.dests[0].available = false;
  EXPECT_EQ(picks(s, 10), "BBCBCBBCBC");  // AABABCABC without the As
}

TEST(SchedWrr, HeavyDestDownLightDestStillServed) {
  Svc s("wrr", dests_weighted({65535, 1, 65535}));
  s.dests[0].available = false;
  s.dests[2].overloaded = true;
  EXPECT_EQ(picks(s, 3), "BBB");
}

// An independent implementation of the LVS stepping rule, walked entry by
// entry, against which wrr's precomputed cycle and level jumps are checked.
struct RefWrr {
  std::vector<uint32_t> w;
  int64_t i = -1, cw = 0;

  int32_t pick(const std::vector<SchedDest>& d) {
    uint32_t max_w = *std::max_element(w.begin(), w.end()), g = 0;
    for (uint32_t x : w) g = std::gcd(g, x);
    const int64_t saved_i = i, saved_cw = cw;
    // One full cycle of steps: n per cw level, max_w / g levels.
    for (uint64_t step = 0; step < w.size() * (max_w / g + 1); ++step) {
      i = (i + 1) % int64_t(w.size());
      if (i == 0) {
        cw -= g;
        if (cw <= 0) cw = max_w;
      }
      if (w[i] >= cw && d[i].weight > 0 && d[i].available && !d[i].overloaded) return int32_t(i);
    }
    i = saved_i;  // nothing usable: wrr leaves its cursor alone too
    cw = saved_cw;
    return -1;
  }
};

TEST(SchedWrr, MatchesTheStepByStepAlgorithmUnderChangingAvailability) {
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    std::vector<uint32_t> w(2 + rng() % 6);
    for (uint32_t& x : w) x = rng() % 4 == 0 ? 0 : 1 + rng() % 40;
    if (std::all_of(w.begin(), w.end(), [](uint32_t x) { return x == 0; })) w[0] = 3;
    Svc s("wrr", dests_weighted(w));
    RefWrr ref{w};
    for (int k = 0; k < 300; ++k) {
      for (auto& d : s.dests) d.available = rng() % 3 != 0;
      ASSERT_EQ(s.pick(), ref.pick(s.dests)) << "round " << round << " pick " << k;
    }
  }
}

TEST(SchedWrr, WorkersStartAtDifferentDests) {
  Svc w0("wrr", dests_weighted({4, 3, 2}), {}, 0, 2);
  Svc w1("wrr", dests_weighted({4, 3, 2}), {}, 1, 2);
  EXPECT_EQ(picks(w0, 9), "AABABCABC");
  EXPECT_EQ(picks(w1, 9), "BCABCAABA");  // from position 9 * 1 / 2 = 4
}

TEST(SchedWrr, OverlongCycleRejected) {
  std::vector<uint32_t> w;
  for (uint32_t i = 0; i < 100; ++i) w.push_back(65535 - i);  // gcd 1, sum ~6.5M
  std::string err;
  EXPECT_EQ(make_scheduler("wrr", dests_weighted(w), SchedOptions{}, err), nullptr);
  EXPECT_NE(err.find("wrr:"), std::string::npos) << err;
}

// ---------------------------------------------------------------- lc family

TEST(SchedLc, LeastOverheadIgnoringWeights) {
  Svc s("lc", dests_weighted({1, 10, 1}));
  s.load = {{1, 0}, {0, 300}, {1, 60}};  // overheads 256, 300, 316
  EXPECT_EQ(s.pick(), 0);
  s.load[0].inactive = 50;  // 306: B's 300 is now the least
  EXPECT_EQ(s.pick(), 1);
}

TEST(SchedLc, TiesGoToTheFirstUsable) {
  Svc s("lc", dests_equal(3));
  EXPECT_EQ(picks(s, 2), "AA");
  s.dests[0].overloaded = true;
  EXPECT_EQ(s.pick(), 1);
}

TEST(SchedWlc, OverheadPerWeightWhereLcDiffers) {
  Svc s("wlc", dests_weighted({1, 10, 1}));
  s.load = {{1, 0}, {0, 300}, {1, 10}};  // per weight: 256, 30, 266
  EXPECT_EQ(s.pick(), 1);
}

TEST(SchedWlc, ComparesExactlyWithoutRounding) {
  Svc s("wlc", dests_weighted({3, 2}));
  s.load = {{3, 0}, {2, 0}};  // 768/3 = 512/2 = 256: tie, first wins
  EXPECT_EQ(s.pick(), 0);
  s.load[0].inactive = 1;  // 769/3 = 256.33 > 256 (integer division says 256)
  EXPECT_EQ(s.pick(), 1);
}

TEST(SchedWlc, SkipsUnusable) {
  Svc s("wlc", dests_weighted({1, 1, 0}));
  s.load = {{5, 0}, {0, 0}, {0, 0}};
  s.dests[1].available = false;
  EXPECT_EQ(s.pick(), 0);  // B and C are idle but cannot take it
}

TEST(SchedSed, ActivePlusOnePerWeightIgnoringInactive) {
  Svc s("sed", dests_weighted({1, 1}));
  s.load = {{0, 1000}, {1, 0}};  // (0+1)/1 < (1+1)/1; wlc would say 1000 > 256
  EXPECT_EQ(s.pick(), 0);
  Svc heavy("sed", dests_weighted({1, 3}));
  heavy.load = {{0, 0}, {1, 0}};  // 1/1 > 2/3: the heavier busy dest wins
  EXPECT_EQ(heavy.pick(), 1);
}

TEST(SchedNq, IdleDestFirstWhereSedWouldQueue) {
  std::vector<DestLoad> load = {{0, 0}, {1, 0}};
  Svc sed("sed", dests_weighted({1, 3}));
  Svc nq("nq", dests_weighted({1, 3}));
  sed.load = nq.load = load;
  EXPECT_EQ(sed.pick(), 1);
  EXPECT_EQ(nq.pick(), 0) << "A has no active connection: no queue at all";
}

TEST(SchedNq, NoIdleDestMeansSed) {
  Svc nq("nq", dests_weighted({1, 3, 1}));
  nq.load = {{1, 0}, {2, 0}, {0, 0}};
  nq.dests[2].weight = 0;  // idle, but quiesced
  EXPECT_EQ(nq.pick(), 1);  // 2/1 vs 3/3
}

// ---------------------------------------------------------------- lblc, lblcr

SchedOptions expire_after(uint32_t ms, uint32_t shrink_ms = 60000) {
  SchedOptions o;
  o.lblc_expire_ms = ms;
  o.lblcr_shrink_ms = shrink_ms;
  return o;
}

TEST(SchedLblc, KeepsLocalityWhileNotOverloaded) {
  Svc s("lblc", dests_weighted({10, 10}));
  EXPECT_EQ(s.pick(), 0);
  s.active(0, 10);  // wlc would now choose B; C(A) = W(A) is not overloaded
  EXPECT_EQ(s.pick(), 0);
}

TEST(SchedLblc, SwitchesOnlyByTheOverloadRule) {
  Svc s("lblc", dests_weighted({10, 10}));
  EXPECT_EQ(s.pick(), 0);
  s.active(0, 11);
  s.active(1, 5);  // C(A) > W(A), but no dest below half its weight
  EXPECT_EQ(s.pick(), 0);
  s.active(1, 4);  // 4 < 10/2: A counts as overloaded
  EXPECT_EQ(s.pick(), 1);
  s.active(0, 0);  // the new mapping sticks
  EXPECT_EQ(s.pick(), 1);
}

TEST(SchedLblc, UnusableMappedDestIsReplaced) {
  Svc s("lblc", dests_equal(2));
  EXPECT_EQ(s.pick(), 0);
  s.dests[0].available = false;
  EXPECT_EQ(s.pick(), 1);
  s.dests[0].available = true;
  EXPECT_EQ(s.pick(), 1);
}

TEST(SchedLblc, KeysAreIndependent) {
  Svc s("lblc", dests_weighted({10, 10}));
  EXPECT_EQ(s.pick(), 0);
  s.active(0, 3);
  s.in.vaddr = ip("10.0.0.101");
  EXPECT_EQ(s.pick(), 1) << "a new key gets the wlc choice";
  s.in.vaddr = ip("10.0.0.100");
  EXPECT_EQ(s.pick(), 0);
}

TEST(SchedLblc, ForgetsEntriesIdleLongerThanExpiry) {
  Svc s("lblc", dests_weighted({10, 10}), expire_after(1000));
  EXPECT_EQ(s.pick_at(5000), 0);
  s.active(0, 3);
  EXPECT_EQ(s.pick_at(6000), 0) << "idle exactly 1000 ms: kept, and refreshed";
  EXPECT_EQ(s.pick_at(7001), 1) << "idle 1001 ms: forgotten, wlc again";
}

TEST(SchedLblcr, GrowsTheSetOnOverload) {
  Svc s("lblcr", dests_weighted({10, 10, 10}));
  EXPECT_EQ(s.pick(), 0);  // set {A}
  s.active(0, 11);
  EXPECT_EQ(s.pick(), 1);  // A overloaded, B idle: set {A, B}
  s.load = {{2, 0}, {3, 0}, {0, 0}};
  EXPECT_EQ(s.pick(), 0) << "least loaded of the set; C is idle but outside";
  s.load = {{5, 0}, {3, 0}, {0, 0}};
  EXPECT_EQ(s.pick(), 1);
}

TEST(SchedLblcr, ShrinksAfterThePeriod) {
  Svc s("lblcr", dests_weighted({10, 10}), expire_after(86400000, 1000));
  EXPECT_EQ(s.pick_at(0), 0);
  s.active(0, 11);
  EXPECT_EQ(s.pick_at(10), 1);  // set {A, B}, changed at 10
  s.load = {{5, 0}, {0, 0}};
  EXPECT_EQ(s.pick_at(1010), 1) << "not yet shrunk: both members";
  s.load = {{0, 0}, {5, 0}};
  EXPECT_EQ(s.pick_at(1010), 0);
  s.load = {{5, 0}, {0, 0}};
  EXPECT_EQ(s.pick_at(1011), 1) << "1001 ms unchanged: A, the busiest, leaves";
  s.load = {{0, 0}, {5, 0}};
  EXPECT_EQ(s.pick_at(1012), 1) << "A is no longer a member";
}

TEST(SchedLblcr, ForgetsIdleKeys) {
  Svc s("lblcr", dests_weighted({10, 10}), expire_after(1000));
  EXPECT_EQ(s.pick_at(0), 0);
  s.active(0, 3);
  EXPECT_EQ(s.pick_at(1000), 0);
  EXPECT_EQ(s.pick_at(2001), 1);
}

// ---------------------------------------------------------------- dh, sh

std::vector<int> bucket_counts(const std::vector<SchedDest>& dests) {
  sched::BucketTable t(dests);
  std::vector<int> c(dests.size(), 0);
  for (uint32_t b = 0; b < sched::BucketTable::kBuckets; ++b) {
    if (t.bucket(b) >= 0) ++c[t.bucket(b)];
  }
  return c;
}

TEST(SchedSh, BucketsFollowTheWeights) {
  sched::BucketTable t(dests_weighted({1, 2, 1}));
  std::string first8;
  for (uint32_t b = 0; b < 8; ++b) first8 += letter(t.bucket(b));
  EXPECT_EQ(first8, "ABBCABBC");
  EXPECT_EQ(bucket_counts(dests_weighted({1, 2, 1})), (std::vector<int>{64, 128, 64}));
  EXPECT_EQ(bucket_counts(dests_weighted({3, 0, 1})), (std::vector<int>{192, 0, 64}));
  EXPECT_EQ(bucket_counts(dests_weighted({300, 100})), (std::vector<int>{192, 64})) << "gcd";
  EXPECT_EQ(bucket_counts(dests_weighted({100, 100, 100})), (std::vector<int>{86, 85, 85}));
  // Sum 257: scaled to 199 + 56 so both fit one cycle, then A takes the last bucket.
  EXPECT_EQ(bucket_counts(dests_weighted({200, 57})), (std::vector<int>{200, 56}));
}

TEST(SchedSh, SameClientSameDestOnEveryWorker) {
  Svc w0("sh", dests_equal(5), {}, 0, 2);
  Svc w1("sh", dests_equal(5), {}, 1, 2);
  sched::BucketTable table(w0.dests);
  std::vector<int> seen(5, 0);
  for (uint32_t k = 0; k < 1000; ++k) {
    int32_t d = w0.pick_client(client(k), 1000 + k);
    EXPECT_EQ(d, table.lookup(client(k)));
    EXPECT_EQ(w0.pick_client(client(k), 5000), d) << "the port does not matter";
    EXPECT_EQ(w1.pick_client(client(k)), d);
    ++seen[d];
  }
  for (int n : seen) EXPECT_GT(n, 120) << "clients spread over all dests";
}

TEST(SchedDh, HashesTheDestinationAddress) {
  Svc s("dh", dests_equal(5));
  sched::BucketTable table(s.dests);
  int32_t d = s.pick();
  for (uint32_t k = 0; k < 100; ++k) EXPECT_EQ(s.pick_client(client(k)), d);
  for (uint32_t k = 0; k < 100; ++k) {
    s.in.vaddr = client(k);
    EXPECT_EQ(s.pick(), table.lookup(client(k)));
  }
}

TEST(SchedSh, NoFallbackWhenTheHashedDestCannotTakeIt) {
  Svc s("sh", dests_weighted({3, 3, 3}));
  int32_t d = s.pick();
  ASSERT_GE(d, 0);
  s.active(d, 6);
  EXPECT_EQ(s.pick(), d) << "C = 2W is not overloaded";
  s.active(d, 7);
  EXPECT_EQ(s.pick(), -1) << "C > 2W";
  s.active(d, 0);
  s.dests[d].available = false;
  EXPECT_EQ(s.pick(), -1);
  s.dests[d].available = true;
  s.dests[d].weight = 0;
  EXPECT_EQ(s.pick(), -1);
}

// ---------------------------------------------------------------- mh

std::vector<int32_t> maglev(const std::vector<SchedDest>& dests, uint32_t size = 65537) {
  std::vector<int32_t> t;
  std::string err;
  EXPECT_TRUE(sched::build_maglev(dests, size, t, err)) << err;
  return t;
}

SchedOptions mh_opts(bool fallback, bool hash_port = false) {
  SchedOptions o;
  o.mh_fallback = fallback;
  o.mh_hash_port = hash_port;
  return o;
}

// FNV-1a over a table's entries.
uint64_t digest(const std::vector<int32_t>& table) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (int32_t v : table) {
    for (int b = 0; b < 4; ++b) h = (h ^ ((uint32_t(v) >> (8 * b)) & 0xff)) * 0x100000001b3ull;
  }
  return h;
}

// The tables are pinned: a different table after an upgrade would move
// clients between dests.
TEST(SchedMh, TablesArePinned) {
  EXPECT_EQ(digest(maglev(dests_weighted({1, 2, 3, 1, 1, 5, 2, 1}))), 0xdc401d5fd12f1b00ull);
  EXPECT_EQ(digest(maglev(dests_equal(7), 251)), 0xad39ab08c3aae4b3ull);
  EXPECT_EQ(digest(maglev(dests_weighted({0, 4, 1}), 61)), 0xb93fd46cf1c73954ull);
}

TEST(SchedMh, DeterministicAcrossBuildsAndWorkers) {
  EXPECT_EQ(maglev(dests_equal(7)), maglev(dests_equal(7)));
  Svc w0("mh", dests_equal(7), {}, 0, 2);
  Svc w1("mh", dests_equal(7), {}, 1, 2);
  for (uint32_t k = 0; k < 1000; ++k) {
    int32_t d = w0.pick_client(client(k));
    EXPECT_GE(d, 0);
    EXPECT_EQ(w0.pick_client(client(k), 123), d) << "client port ignored by default";
    EXPECT_EQ(w1.pick_client(client(k)), d);
  }
}

TEST(SchedMh, SlotSharesFollowWeightsWithinOnePercent) {
  std::vector<uint32_t> w = {1, 2, 3, 5, 8, 13, 0, 7, 4, 10};
  auto table = maglev(dests_weighted(w));
  std::vector<int> slots(w.size(), 0);
  for (int32_t d : table) {
    ASSERT_GE(d, 0);
    ++slots[d];
  }
  double sum = std::accumulate(w.begin(), w.end(), 0.0);
  for (size_t i = 0; i < w.size(); ++i) {
    double want = 65537.0 * w[i] / sum;
    EXPECT_LE(std::abs(slots[i] - want), want * 0.01) << "dest " << i << ": " << slots[i];
  }
  EXPECT_EQ(slots[6], 0) << "weight 0 takes no slot";
}

TEST(SchedMh, RemovingOneOfTenDestsMovesLittle) {
  auto before_dests = dests_equal(10);
  auto after_dests = before_dests;
  after_dests.erase(after_dests.begin() + 3);
  auto before = maglev(before_dests), after = maglev(after_dests);
  auto owner = [](const std::vector<SchedDest>& d, int32_t i) { return d[i].ip; };
  size_t changed = 0, moved_elsewhere = 0, kept_total = 0;
  for (size_t slot = 0; slot < before.size(); ++slot) {
    bool same = owner(before_dests, before[slot]) == owner(after_dests, after[slot]);
    changed += !same;
    if (before[slot] == 3) continue;  // the removed dest's slots must move
    ++kept_total;
    moved_elsewhere += !same;
  }
  EXPECT_LT(changed, before.size() * 15 / 100);
  EXPECT_LT(moved_elsewhere, kept_total / 100) << "remaining dests keep their slots";
}

TEST(SchedMh, TableSizeMustBePrime) {
  for (uint32_t bad : {0u, 1u, 65536u, 65535u, 4294967291u}) {
    SchedOptions o;
    o.mh_table_size = bad;
    std::string err;
    EXPECT_EQ(make_scheduler("mh", dests_equal(3), o, err), nullptr) << bad;
    EXPECT_NE(err.find("prime"), std::string::npos) << err;
  }
  SchedOptions small;
  small.mh_table_size = 13;
  EXPECT_NE(build("mh", dests_equal(3), small), nullptr);
}

TEST(SchedMh, FallbackWalksToTheNextUsableSlot) {
  auto dests = dests_equal(5);
  Svc strict("mh", dests, mh_opts(false));
  Svc loose("mh", dests, mh_opts(true));
  int32_t d = strict.pick();
  ASSERT_GE(d, 0);
  strict.dests[d].available = false;
  loose.dests[d].available = false;
  EXPECT_EQ(strict.pick(), -1);
  int32_t other = loose.pick();
  EXPECT_GE(other, 0);
  EXPECT_NE(other, d);
  for (auto& x : loose.dests) x.overloaded = true;
  EXPECT_EQ(loose.pick(), -1);
}

TEST(SchedMh, FallbackSpreadsTheLostClientsOverTheOthers) {
  Svc s("mh", dests_equal(5), mh_opts(true));
  s.dests[0].available = false;
  std::vector<int> seen(5, 0);
  for (uint32_t k = 0; k < 2000; ++k) ++seen[s.pick_client(client(k))];
  EXPECT_EQ(seen[0], 0);
  for (int i = 1; i < 5; ++i) EXPECT_GT(seen[i], 350) << i;
}

TEST(SchedMh, HashPortSpreadsOneClientsConnections) {
  Svc by_addr("mh", dests_equal(10), mh_opts(false, false));
  Svc by_port("mh", dests_equal(10), mh_opts(false, true));
  std::set<int32_t> addr_dests, port_dests;
  for (uint16_t port = 1000; port < 1500; ++port) {
    addr_dests.insert(by_addr.pick_client(client(1), port));
    port_dests.insert(by_port.pick_client(client(1), port));
  }
  EXPECT_EQ(addr_dests.size(), 1u);
  EXPECT_EQ(port_dests.size(), 10u);
}

// ---------------------------------------------------------------- fo, ovf, twos

TEST(SchedFo, HighestWeightThenFailsOver) {
  Svc s("fo", dests_weighted({5, 10, 10, 1}));
  EXPECT_EQ(picks(s, 2), "BB") << "first of the two heaviest";
  s.dests[1].available = false;
  EXPECT_EQ(s.pick(), 2);
  s.dests[2].overloaded = true;
  EXPECT_EQ(s.pick(), 0);
  s.dests[0].weight = 0;
  EXPECT_EQ(s.pick(), 3);
  s.dests[1].available = true;
  EXPECT_EQ(s.pick(), 1) << "back as soon as it is usable";
}

TEST(SchedOvf, FillsTheHeaviestUpToItsWeightThenTheNext) {
  Svc s("ovf", dests_weighted({2, 5, 5}));  // ranking: B, C (list order), A
  EXPECT_EQ(s.pick(), 1);
  s.active(1, 4);
  EXPECT_EQ(s.pick(), 1);
  s.active(1, 5);
  EXPECT_EQ(s.pick(), 2);
  s.active(2, 5);
  EXPECT_EQ(s.pick(), 0);
  s.active(0, 2);
  EXPECT_EQ(s.pick(), -1) << "every dest at its weight";
  s.active(1, 3);
  EXPECT_EQ(s.pick(), 1);
  s.dests[1].available = false;
  EXPECT_EQ(s.pick(), -1);
}

TEST(SchedTwos, PrefersTheLessLoadedOfTwo) {
  Svc s("twos", dests_equal(2));
  s.load = {{100, 0}, {0, 0}};
  std::mt19937 rng(1);
  std::vector<int> c(2, 0);
  for (int k = 0; k < 4000; ++k) {
    s.in.random = rng();
    ++c[s.pick()];
  }
  // A only when both draws are A: 1/4 of the time.
  EXPECT_GT(c[0], 800);
  EXPECT_LT(c[0], 1200);
}

TEST(SchedTwos, DrawsInProportionToWeight) {
  Svc s("twos", dests_weighted({1, 3}));  // equal (zero) load: the first draw wins
  std::mt19937 rng(2);
  std::vector<int> c(2, 0);
  for (int k = 0; k < 8000; ++k) {
    s.in.random = rng();
    ++c[s.pick()];
  }
  EXPECT_GT(c[0], 1700);
  EXPECT_LT(c[0], 2300);
}

TEST(SchedTwos, NeverPicksAnUnusableDest) {
  Svc s("twos", dests_weighted({0, 1, 5, 5}));
  s.dests[2].available = false;
  s.dests[3].overloaded = true;
  s.load = {{0, 0}, {1000, 0}, {0, 0}, {0, 0}};
  for (uint32_t r = 0; r < 1000; ++r) {
    s.in.random = r * 2654435761u;
    ASSERT_EQ(s.pick(), 1);
  }
}

TEST(SchedTwos, SameRandomSamePick) {
  Svc s("twos", dests_weighted({1, 2, 3, 4}));
  s.load = {{1, 0}, {3, 0}, {2, 0}, {7, 0}};
  for (uint32_t r = 0; r < 100; ++r) {
    s.in.random = r * 40503u;
    int32_t d = s.pick();
    EXPECT_EQ(s.pick(), d);
  }
}

}  // namespace
}  // namespace fulcrum::test
