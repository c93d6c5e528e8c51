// SPDX-License-Identifier: Apache-2.0
//
// One EAL for the whole test binary: DPDK allows rte_eal_init once per
// process, and mempools, hashes and LPM tables all need it.
//
// ctest runs every test in its own process, possibly several at once
// (ctest -j), and other DPDK programs may run on the same machine, so the
// EAL here shares nothing: --no-shconf (no config file, no multi-process
// socket), --no-telemetry (no socket in the runtime directory), --no-huge
// (hugepages may be absent; it also rules out --in-memory, which DPDK
// 22.11 refuses together with the legacy memory mode --no-huge implies)
// and --no-pci (no devices touched).
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rte_eal.h>

#include "engine/eal.hpp"
#include "packet_builder.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // gtest_discover_tests lists tests at build time; that needs no EAL, and
  // skipping it keeps discovery working even where EAL cannot start.
  if (GTEST_FLAG_GET(list_tests)) return RUN_ALL_TESTS();

  const std::vector<std::string> eal_args = {
      "fulcrum_tests", "-l", "0", "--no-pci", "--no-huge", "--no-shconf", "--no-telemetry",
      "-m", "256", "--log-level=*:error"};
  std::string err;
  if (!fulcrum::eal_init(eal_args, err)) {
    std::fprintf(stderr, "FATAL: fulcrum_tests cannot initialise DPDK EAL: %s\n", err.c_str());
    return 2;
  }
  int rc = RUN_ALL_TESTS();
  fulcrum::test::free_test_pool();
  rte_eal_cleanup();
  return rc;
}
