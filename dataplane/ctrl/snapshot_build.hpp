// SPDX-License-Identifier: Apache-2.0
//
// Building a Snapshot from the plain description the control plane sends.
// Runs on the control thread; the result is immutable once published.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ctrl/snapshot.hpp"

namespace fulcrum {

struct AddressSpec {
  uint32_t ip;      // network order
  uint8_t prefix;
  uint16_t port;    // config index
};

struct RouteSpec {
  uint32_t prefix;  // network order, host bits zero
  uint8_t depth;
  uint16_t port;
  uint32_t gateway; // network order; 0 = connected
};

struct SnapshotSpec {
  std::vector<AddressSpec> addresses;
  std::vector<RouteSpec> routes;  // static routes; connected ones are derived
};

// Builds the snapshot for generation gen. Each port address also yields
// its connected route. An address already in prev keeps its added_gen, so
// only new addresses are announced by gratuitous ARP; when the routes are
// the same as prev's, prev's route table is shared rather than rebuilt. Returns nullptr and
// fills err on failure (bad port index, duplicate address, LPM full).
std::unique_ptr<Snapshot> build_snapshot(const SnapshotSpec& spec, const Snapshot* prev,
                                         uint64_t gen, uint16_t nports, std::string& err);

}  // namespace fulcrum
