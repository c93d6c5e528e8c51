// SPDX-License-Identifier: Apache-2.0
//
// One EAL for the whole test binary (test/support/test_eal.hpp says which).
// The engine tests' binary is built from this file too, with
// FULCRUM_TEST_LCORES naming the lcores it needs and FULCRUM_TEST_PROGRAM
// its name.
#include <cstdio>
#include <string>

#include <gtest/gtest.h>
#include <rte_eal.h>

#include "packet_builder.hpp"
#include "test_eal.hpp"

#ifndef FULCRUM_TEST_LCORES
#define FULCRUM_TEST_LCORES "0"
#endif
#ifndef FULCRUM_TEST_PROGRAM
#define FULCRUM_TEST_PROGRAM "fulcrum_tests"
#endif

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // gtest_discover_tests lists tests at build time; that needs no EAL, and
  // skipping it keeps discovery working even where EAL cannot start.
  if (GTEST_FLAG_GET(list_tests)) return RUN_ALL_TESTS();

  std::string err;
  if (!fulcrum::test::test_eal_init(FULCRUM_TEST_PROGRAM, err, FULCRUM_TEST_LCORES)) {
    std::fprintf(stderr, "FATAL: %s cannot initialise DPDK EAL: %s\n", FULCRUM_TEST_PROGRAM, err.c_str());
    return 2;
  }
  int rc = RUN_ALL_TESTS();
  fulcrum::test::free_test_pool();
  rte_eal_cleanup();
  return rc;
}
