// SPDX-License-Identifier: Apache-2.0
//
// EAL initialisation. DPDK allows it once per process and pins the calling
// thread, which becomes the main lcore (in Fulcrum: Node's main thread).
#pragma once

#include <string>
#include <vector>

namespace fulcrum {

// Runs rte_eal_init with args (args[0] is the program name). Returns false
// and fills err when it fails or has already run in this process.
// Control thread only.
bool eal_init(const std::vector<std::string>& args, std::string& err);

// True once eal_init has succeeded.
bool eal_ready();

}  // namespace fulcrum
