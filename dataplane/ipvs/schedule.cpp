// SPDX-License-Identifier: Apache-2.0
//
// Choosing a dest for a new connection: the service's scheduler, fed with
// each dest's connection counts summed over the workers and its overload
// state (thresholds with hysteresis, kept per worker).
#include "ipvs/ipvs_internal.hpp"

namespace fulcrum {
namespace {

// A dest's connection count summed over every worker.
DestLoad load_of(const IpvsWorker& v, uint32_t dest_id) {
  DestLoad l{0, 0};
  for (const DestStats* rows : v.all_dest_stats) {
    l.active += uint32_t(rows[dest_id].get(DestStat::active));
    l.inactive += uint32_t(rows[dest_id].get(DestStat::inactive));
  }
  return l;
}

// Overloaded at or above upper, until back below lower (or 3/4 of upper).
bool overload_check(IpvsWorker& v, const Dest& d, const DestLoad& l) {
  uint8_t& flag = v.overloaded[d.id];
  uint32_t total = l.active + l.inactive;
  uint32_t lower = d.lower != 0 ? d.lower : d.upper * 3 / 4;
  if (d.upper == 0) flag = 0;
  else if (total >= d.upper) flag = 1;
  else if (total < lower) flag = 0;
  return flag != 0;
}

uint32_t next_random(IpvsWorker& v) {
  v.rng ^= v.rng << 13;  // xorshift64: cheap, per worker, good enough for twos
  v.rng ^= v.rng >> 7;
  v.rng ^= v.rng << 17;
  return uint32_t(v.rng >> 32);
}

// Per-worker scheduler state, rebuilt when the service's scheduler was
// (every snapshot builds its schedulers anew).
SchedState* sched_state_for(IpvsWorker& v, const Service& s) {
  if (v.sched_gen[s.id] != s.sched_gen) {
    v.sched_state[s.id] = s.sched->make_state(v.worker, v.workers);
    v.sched_gen[s.id] = s.sched_gen;
  }
  return v.sched_state[s.id].get();
}

}  // namespace

int32_t schedule(WorkerCtx& ctx, const Service& s, uint8_t proto, const Tuple& t) {
  IpvsWorker& v = *ctx.ipvs;
  size_t n = s.dests.size();
  if (n == 0) return -1;
  v.scratch.assign(s.sched_dests.begin(), s.sched_dests.end());
  v.load.resize(n);
  // Summing a dest's counts reads every worker's row: only when the
  // scheduler or the dest's thresholds need them.
  bool want_load = s.sched->needs_load();
  for (size_t i = 0; i < n; i++) {
    v.load[i] = want_load || s.dests[i].upper != 0 ? load_of(v, s.dests[i].id) : DestLoad{0, 0};
    v.scratch[i].overloaded = overload_check(v, s.dests[i], v.load[i]);
  }
  SchedInput in{proto, t.saddr, t.sport, t.daddr, t.dport, v.scratch.data(), uint32_t(n),
                v.load.data(), v.now_ms, next_random(v)};
  return s.sched->pick(in, sched_state_for(v, s));
}

bool dest_usable(IpvsWorker& v, const Dest& d) {
  return d.weight > 0 && d.available && !overload_check(v, d, load_of(v, d.id));
}

const Dest* find_dest(const Service& s, uint32_t dest_id) {
  for (const Dest& d : s.dests)
    if (d.id == dest_id) return &d;
  return nullptr;
}

}  // namespace fulcrum
