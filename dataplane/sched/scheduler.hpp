// SPDX-License-Identifier: Apache-2.0
//
// Schedulers: which dest a new connection of a service goes to.
//
// A Scheduler is built on the control thread for one service from its
// dest list and options, and is immutable afterwards: it lives in the
// config snapshot, and every precomputable table (the wrr sequence, the
// Maglev lookup table, the dh/sh bucket tables) is computed at build time,
// never per packet. What changes per packet (rr cursors, lblc maps) lives
// in a SchedState that each worker owns for each service (make_state), so
// pick() takes no lock and writes only the caller's state.
//
// Connection counts: each worker counts the connections it owns per dest;
// the caller sums them over the workers into DestLoad before pick(). Other
// workers' counts may be a few packets old, so least-connection schedulers
// see an approximation of the global count (exact with one worker).
//
// Registry: make_scheduler() below maps names to constructors in one
// explicit table (sched/registry.cpp), one small file per scheduler.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fulcrum {

// What a scheduler sees of one dest.
struct SchedDest {
  uint32_t ip;          // network order
  uint16_t port;        // network order
  uint32_t weight;      // 0 = quiesced: never chosen for new connections
  bool available;       // false: inhibited (health check) or being removed
  bool overloaded;      // above its upper threshold (hysteresis kept by the caller)
};

// Connection counts of one dest, summed over workers (see above).
struct DestLoad {
  uint32_t active;      // TCP ESTABLISHED
  uint32_t inactive;    // every other state, and UDP
};

// Everything pick() may look at for one new connection.
struct SchedInput {
  uint8_t proto;        // IPPROTO_TCP or IPPROTO_UDP
  uint32_t caddr;       // client address, network order
  uint16_t cport;       // network order
  uint32_t vaddr;       // the service address the client asked for
  uint16_t vport;
  const SchedDest* dests;
  uint32_t ndests;
  const DestLoad* load; // ndests entries; nullptr unless needs_load()
  uint64_t now_ms;      // monotonic clock, for schedulers that age state
  uint32_t random;      // a fresh per-worker random number (twos)
};

// Per-worker, per-service mutable state of a scheduler.
class SchedState {
 public:
  virtual ~SchedState() = default;
};

struct SchedOptions {
  uint32_t mh_table_size = 65537;    // prime; Maglev lookup table entries
  bool mh_hash_port = false;         // mh: hash the client port too
  bool mh_fallback = false;          // mh: next dest when the chosen one is unavailable
  uint32_t lblc_expire_ms = 86400000;  // lblc/lblcr: forget an idle entry after this
  uint32_t lblcr_shrink_ms = 60000;    // lblcr: drop the busiest server from a set this often
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // True when pick() reads SchedInput::load (the caller skips summing otherwise).
  virtual bool needs_load() const { return false; }
  // The state worker `worker` (of `workers`) keeps for this service; may
  // return nullptr when the scheduler keeps none. Control thread or worker.
  virtual std::unique_ptr<SchedState> make_state(uint32_t worker, uint32_t workers) const {
    (void)worker;
    (void)workers;
    return nullptr;
  }
  // The index of the chosen dest in in.dests, or -1 when no dest can take
  // a new connection. Worker, lock-free; writes only *state.
  virtual int32_t pick(const SchedInput& in, SchedState* state) const = 0;
};

// Builds the named scheduler (rr, wrr, lc, wlc, sed, nq, lblc, lblcr, dh,
// sh, mh, fo, ovf, twos) for this dest list. Returns nullptr and fills err
// for an unknown name or invalid options. Control thread.
std::unique_ptr<Scheduler> make_scheduler(std::string_view name,
                                          const std::vector<SchedDest>& dests,
                                          const SchedOptions& opts, std::string& err);

// The names make_scheduler() accepts, in registry order.
std::vector<std::string> scheduler_names();

}  // namespace fulcrum
