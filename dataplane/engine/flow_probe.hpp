// SPDX-License-Identifier: Apache-2.0
//
// Whether a port's NIC would take the flow rules that could steer replies
// to local addresses in hardware: destination address plus a mask on the
// destination port, to a queue (what DPVS installs). Fulcrum asks the NIC
// (rte_flow_validate, nothing installed) and reports the answer; replies
// are steered in software on every NIC (engine/steer.hpp), which is the
// path that works everywhere and the one the counters show.
#pragma once

#include <cstdint>
#include <string>

namespace fulcrum {

// "" when the NIC accepts such a rule; otherwise why not (the PMD's
// message, e.g. "function not implemented").
std::string flow_rule_probe(uint16_t port_id, uint16_t queues);

}  // namespace fulcrum
