// SPDX-License-Identifier: Apache-2.0
#include "harness.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "test_eal.hpp"

namespace fulcrum::fuzz {

void init_or_exit(const char* program) {
  std::string err;
  if (!test::test_eal_init(program, err)) {
    std::fprintf(stderr, "FATAL: %s cannot initialise DPDK EAL: %s\n", program, err.c_str());
    std::exit(2);
  }
}

void fail(const char* what) {
  std::fprintf(stderr, "INVARIANT BROKEN: %s\n", what);
  std::abort();
}

}  // namespace fulcrum::fuzz
