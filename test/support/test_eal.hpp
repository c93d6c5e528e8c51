// SPDX-License-Identifier: Apache-2.0
//
// One EAL per test or fuzz binary: DPDK allows rte_eal_init once per
// process, and mempools, hashes and LPM tables all need it.
//
// ctest runs every test in its own process, possibly several at once
// (ctest -j), fuzzers run beside them, and other DPDK programs may run on
// the same machine, so this EAL shares nothing: --no-shconf (no config
// file, no multi-process socket), --no-telemetry (no socket in the runtime
// directory), --no-huge (hugepages may be absent; it also rules out
// --in-memory, which DPDK 22.11 refuses together with the legacy memory
// mode --no-huge implies) and --no-pci (no devices touched).
//
// One lcore by default: the tests drive the packet path on the calling
// thread. The engine tests (test/engine/) run the real worker loop, so
// their binary asks for a second lcore to launch it on.
#pragma once

#include <string>

namespace fulcrum::test {

// Initialises EAL for program (its name in logs) on the lcores of an EAL
// -l list. false and err on failure. Main thread, once per process.
bool test_eal_init(const char* program, std::string& err, const char* lcores = "0");

}  // namespace fulcrum::test
