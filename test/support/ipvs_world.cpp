// SPDX-License-Identifier: Apache-2.0
#include "ipvs_world.hpp"

namespace fulcrum::test::ipvsgold {

bool IpvsWorld::build(std::string& err, uint32_t max_conns) {
  snap_ = build_snapshot(ipvs_spec(), nullptr, 1, kLimits, err);
  if (snap_ == nullptr) return false;
  return start(err, max_conns);
}

bool IpvsWorld::start(std::string& err, uint32_t max_conns) {
  ctr_ = std::make_unique<LcoreCounters>();  // value-initialised: all zero
  NeighConfig nc;
  nc.reachable_tsc = kForever;
  nc.retry_tsc = 1000;
  neigh_ = NeighTable::create(nc, unique_name("ipvsgold_n").c_str(), SOCKET_ID_ANY, err);
  if (neigh_ == nullptr) return false;
  const std::pair<uint16_t, std::pair<uint32_t, Mac>> neighbours[] = {
      {0, {kClient, kClientMac}}, {1, {kRs1, kRs1Mac}}, {1, {kRs2, kRs2Mac}},
      {0, {kRouter, kRouterMac}}};
  for (const auto& [port, n] : neighbours) {
    rte_mbuf* released[8];
    if (neigh_->learn(port, n.first, ether(n.second), true, kNow, released, 8) != 0) {
      err = "learning a neighbour released packets nobody held";
      return false;
    }
  }
  ctx_ = std::make_unique<WorkerCtx>();
  ctx_->nports = 2;
  ctx_->ports[0] = {ether(kWanMac), kMtu};
  ctx_->ports[1] = {ether(kLanMac), kMtu};
  ctx_->ctr = ctr_.get();
  ctx_->neigh = neigh_.get();
  ctx_->pool = test_pool();
  ctx_->snap = snap_.get();
  ctx_->now = kNow;
  return make_ipvs(IpvsConfig{.max_conns = max_conns, .max_services = kMaxServices, .max_dests = kMaxDests,
                              .max_laddrs = kMaxLaddrs, .synproxy = SynproxyConfig{.key = kCookieKey}},
                   err);
}

void IpvsWorld::stop() {
  if (ctx_) {
    take_output(0);
    take_output(1);
    ctx_->ipvs = nullptr;
  }
  ipvs_.reset();
  neigh_.reset();  // frees whatever it still holds
  ctx_.reset();
  ctr_.reset();
  snap2_.reset();
  retired_.clear();
  next_gen_ = 2;
}

void IpvsWorld::teardown() {
  stop();
  snap_.reset();
}

bool IpvsWorld::make_ipvs(const IpvsConfig& cfg, std::string& err) {
  ctx_->ipvs = nullptr;
  ipvs_.reset();  // its connection table's name is reused
  dest_rows_.assign(cfg.max_dests, DestStats{});
  svc_rows_.assign(cfg.max_services, ServiceStats{});
  laddr_rows_.assign(cfg.max_laddrs, LaddrStats{});
  ipvs_ = IpvsWorker::create(0, 1, cfg, dest_rows_.data(), svc_rows_.data(), laddr_rows_.data(), err);
  if (ipvs_ == nullptr) return false;
  ipvs_->all_dest_stats = {dest_rows_.data()};  // what the engine does, for one worker
  base_ms_ = (ipvs_->now_ms / cfg.tick_ms + 1) * cfg.tick_ms;
  at(0);
  ctx_->ipvs = ipvs_.get();
  return true;
}

bool IpvsWorld::switch_to(const SnapshotSpec& spec, std::string& err) {
  if (snap2_) retired_.push_back(std::move(snap2_));
  snap2_ = build_snapshot(spec, snap_.get(), next_gen_++, kLimits, err);
  if (snap2_ == nullptr) return false;
  ctx_->snap = snap2_.get();
  return true;
}

}  // namespace fulcrum::test::ipvsgold
