// SPDX-License-Identifier: Apache-2.0
//
// The Maglev lookup table of mh (Eisenbud et al., "Maglev: A Fast and
// Reliable Software Network Load Balancer", NSDI 2016, section 3.4),
// built on the control thread.
//
// Each dest gets a preference list over the M slots (M prime): it starts
// at offset = h1(dest) mod M and steps by skip = h2(dest) mod (M - 1) + 1,
// a permutation of all slots because M is prime. Dests then take turns
// claiming their next still-free preferred slot until the table is full.
// Since a dest's preferences do not depend on the other dests, adding or
// removing one dest moves few slots between the others.
//
// Weights: the paper gives every dest one turn per round. Here each dest
// earns weight / max_weight of a turn per round (kept exactly as an
// integer credit: credit += weight, take a turn per max_weight of credit),
// so the heaviest dests take one turn every round and a dest of half that
// weight one every other round: slot counts are proportional to weights,
// to within one slot per dest. Weight-0 dests take no slot.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sched/scheduler.hpp"

namespace fulcrum::sched {

// Table sizes accepted: primes in [kMaglevMinSize, kMaglevMaxSize].
inline constexpr uint32_t kMaglevMinSize = 3;
inline constexpr uint32_t kMaglevMaxSize = 1u << 24;

bool is_prime(uint32_t n);

// Fills table (size entries, each a dest index or -1 when no dest has a
// weight). False with err when size is not an accepted prime.
bool build_maglev(const std::vector<SchedDest>& dests, uint32_t size, std::vector<int32_t>& table,
                  std::string& err);

}  // namespace fulcrum::sched
