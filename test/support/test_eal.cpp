// SPDX-License-Identifier: Apache-2.0
#include "test_eal.hpp"

#include <vector>

#include "engine/eal.hpp"

namespace fulcrum::test {

bool test_eal_init(const char* program, std::string& err, const char* lcores) {
  const std::vector<std::string> args = {
      program, "-l", lcores, "--no-pci", "--no-huge", "--no-shconf", "--no-telemetry",
      "-m", "256", "--log-level=*:error"};
  return eal_init(args, err);
}

}  // namespace fulcrum::test
