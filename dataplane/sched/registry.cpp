// SPDX-License-Identifier: Apache-2.0
//
// The scheduler registry: one explicit name -> constructor table. No
// static self-registration: the whole list is here to read, in the order
// scheduler_names() reports (the config schema's order), and nothing
// depends on static initialisation order or on the linker keeping an
// otherwise unreferenced object file.
#include <string>

#include "sched/factories.hpp"
#include "sched/scheduler.hpp"

namespace fulcrum {
namespace {

struct Entry {
  std::string_view name;
  sched::Factory make;
};

constexpr Entry kSchedulers[] = {
    {"rr", sched::make_rr},     {"wrr", sched::make_wrr},     {"lc", sched::make_lc},
    {"wlc", sched::make_wlc},   {"sed", sched::make_sed},     {"nq", sched::make_nq},
    {"lblc", sched::make_lblc}, {"lblcr", sched::make_lblcr}, {"dh", sched::make_dh},
    {"sh", sched::make_sh},     {"mh", sched::make_mh},       {"fo", sched::make_fo},
    {"ovf", sched::make_ovf},   {"twos", sched::make_twos},
};

std::string known_names() {
  std::string out;
  for (const Entry& e : kSchedulers) {
    if (!out.empty()) out += ", ";
    out += e.name;
  }
  return out;
}

}  // namespace

std::unique_ptr<Scheduler> make_scheduler(std::string_view name,
                                          const std::vector<SchedDest>& dests,
                                          const SchedOptions& opts, std::string& err) {
  for (const Entry& e : kSchedulers) {
    if (e.name == name) return e.make(dests, opts, err);
  }
  err = "unknown scheduler '" + std::string(name) + "' (known: " + known_names() + ")";
  return nullptr;
}

std::vector<std::string> scheduler_names() {
  std::vector<std::string> names;
  for (const Entry& e : kSchedulers) names.emplace_back(e.name);
  return names;
}

}  // namespace fulcrum
