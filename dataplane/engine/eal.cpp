// SPDX-License-Identifier: Apache-2.0
#include "engine/eal.hpp"

#include <atomic>

#include <rte_eal.h>
#include <rte_errno.h>

namespace fulcrum {
namespace {

// 0 = never tried, 1 = running or done. A failed rte_eal_init cannot be
// retried either (DPDK keeps partial state), so any attempt latches.
std::atomic<int> g_attempted{0};
std::atomic<bool> g_ready{false};

}  // namespace

bool eal_init(const std::vector<std::string>& args, std::string& err) {
  if (g_attempted.exchange(1) != 0) {
    err = "EAL was already initialised in this process; DPDK allows it once";
    return false;
  }
  std::vector<std::string> copy(args);  // rte_eal_init may permute argv
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (rte_eal_init(int(copy.size()), argv.data()) < 0) {
    err = std::string("EAL initialisation failed: ") + rte_strerror(rte_errno);
    return false;
  }
  g_ready = true;
  return true;
}

bool eal_ready() { return g_ready.load(); }

}  // namespace fulcrum
