// SPDX-License-Identifier: Apache-2.0
//
// One constructor per scheduler, each defined in its own file (rr.cpp,
// wrr.cpp, ...) and listed by name in registry.cpp's explicit table. A
// constructor validates its options and fills err on failure (returning
// nullptr). Control thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sched/scheduler.hpp"

namespace fulcrum::sched {

using Factory = std::unique_ptr<Scheduler> (*)(const std::vector<SchedDest>& dests,
                                               const SchedOptions& opts, std::string& err);

std::unique_ptr<Scheduler> make_rr(const std::vector<SchedDest>&, const SchedOptions&, std::string&);
std::unique_ptr<Scheduler> make_wrr(const std::vector<SchedDest>&, const SchedOptions&, std::string&);
std::unique_ptr<Scheduler> make_lc(const std::vector<SchedDest>&, const SchedOptions&, std::string&);
std::unique_ptr<Scheduler> make_wlc(const std::vector<SchedDest>&, const SchedOptions&, std::string&);
std::unique_ptr<Scheduler> make_sed(const std::vector<SchedDest>&, const SchedOptions&, std::string&);
std::unique_ptr<Scheduler> make_nq(const std::vector<SchedDest>&, const SchedOptions&, std::string&);
std::unique_ptr<Scheduler> make_lblc(const std::vector<SchedDest>&, const SchedOptions&, std::string&);
std::unique_ptr<Scheduler> make_lblcr(const std::vector<SchedDest>&, const SchedOptions&, std::string&);
std::unique_ptr<Scheduler> make_dh(const std::vector<SchedDest>&, const SchedOptions&, std::string&);
std::unique_ptr<Scheduler> make_sh(const std::vector<SchedDest>&, const SchedOptions&, std::string&);
std::unique_ptr<Scheduler> make_mh(const std::vector<SchedDest>&, const SchedOptions&, std::string&);
std::unique_ptr<Scheduler> make_fo(const std::vector<SchedDest>&, const SchedOptions&, std::string&);
std::unique_ptr<Scheduler> make_ovf(const std::vector<SchedDest>&, const SchedOptions&, std::string&);
std::unique_ptr<Scheduler> make_twos(const std::vector<SchedDest>&, const SchedOptions&, std::string&);

}  // namespace fulcrum::sched
