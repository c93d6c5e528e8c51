// SPDX-License-Identifier: Apache-2.0
//
// The Node binding: translation between JavaScript values and the engine's
// plain structs, nothing else. TypeScript validates everything first; the
// checks here only keep a wrong call from reaching DPDK. Every entry point
// runs on the JS main thread (the EAL main lcore) and returns at once:
// worker requests complete later and are collected with poll().
#include <napi.h>

#include <arpa/inet.h>

#include <memory>
#include <string>

#include "engine/eal.hpp"
#include "engine/engine.hpp"

namespace fulcrum {
namespace {

std::string mac_str(const rte_ether_addr& m) {
  char buf[RTE_ETHER_ADDR_FMT_SIZE];
  rte_ether_format_addr(buf, sizeof(buf), &m);
  return buf;
}

std::string ip_str(uint32_t ip_be) {
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &ip_be, buf, sizeof(buf));
  return buf;
}

uint32_t get_u32(const Napi::Object& o, const char* key, uint32_t dflt) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : dflt;
}

uint32_t get_ip(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  in_addr a{};
  if (!v.IsString() || inet_pton(AF_INET, v.As<Napi::String>().Utf8Value().c_str(), &a) != 1)
    throw Napi::TypeError::New(o.Env(), std::string("expected an IPv4 address in '") + key + "'");
  return a.s_addr;
}

Napi::Array get_array(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsArray()) throw Napi::TypeError::New(o.Env(), std::string("expected an array in '") + key + "'");
  return v.As<Napi::Array>();
}

EngineConfig to_engine_config(const Napi::Object& o) {
  EngineConfig cfg;
  Napi::Array ports = get_array(o, "ports");
  for (uint32_t i = 0; i < ports.Length(); i++) {
    Napi::Object p = ports.Get(i).As<Napi::Object>();
    cfg.ports.push_back(PortSpec{p.Get("name").ToString(), p.Get("device").ToString(),
                                 uint16_t(get_u32(p, "mtu", 1500))});
  }
  cfg.setup.mbufs = get_u32(o, "mbufs", cfg.setup.mbufs);
  cfg.setup.mbuf_cache = get_u32(o, "mbufCache", cfg.setup.mbuf_cache);
  cfg.setup.rx_desc = uint16_t(get_u32(o, "rxDesc", cfg.setup.rx_desc));
  cfg.setup.tx_desc = uint16_t(get_u32(o, "txDesc", cfg.setup.tx_desc));
  cfg.idle_sleep_us = get_u32(o, "idleSleepUs", 0);
  Napi::Value nv = o.Get("neighbours");
  if (nv.IsObject()) {
    Napi::Object n = nv.As<Napi::Object>();
    cfg.neigh_max = get_u32(n, "max", cfg.neigh_max);
    cfg.neigh_reachable_ms = get_u32(n, "reachableMs", cfg.neigh_reachable_ms);
    cfg.neigh_retry_ms = get_u32(n, "retryMs", cfg.neigh_retry_ms);
    cfg.neigh_retries = uint8_t(get_u32(n, "retries", cfg.neigh_retries));
    cfg.neigh_hold = uint8_t(get_u32(n, "hold", cfg.neigh_hold));
  }
  return cfg;
}

SnapshotSpec to_snapshot_spec(const Napi::Object& o) {
  SnapshotSpec spec;
  Napi::Array addrs = get_array(o, "addresses");
  for (uint32_t i = 0; i < addrs.Length(); i++) {
    Napi::Object a = addrs.Get(i).As<Napi::Object>();
    spec.addresses.push_back(AddressSpec{get_ip(a, "ip"), uint8_t(get_u32(a, "prefix", 32)),
                                         uint16_t(get_u32(a, "port", 0))});
  }
  Napi::Array routes = get_array(o, "routes");
  for (uint32_t i = 0; i < routes.Length(); i++) {
    Napi::Object r = routes.Get(i).As<Napi::Object>();
    uint32_t gw = r.Get("gateway").IsString() ? get_ip(r, "gateway") : 0;
    spec.routes.push_back(RouteSpec{get_ip(r, "prefix"), uint8_t(get_u32(r, "depth", 32)),
                                    uint16_t(get_u32(r, "port", 0)), gw});
  }
  return spec;
}

Napi::Object port_info(Napi::Env env, const Port& p) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", p.name);
  o.Set("device", p.device_name);
  o.Set("driver", p.driver);
  o.Set("portId", p.port_id);
  o.Set("mac", mac_str(p.mac));
  o.Set("rss", p.rss);
  return o;
}

Napi::Object request_result(Napi::Env env, const Request& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", double(r.id));
  o.Set("worker", r.worker);
  if (r.kind != RequestKind::kDumpNeighbours) return o;
  Napi::Array rows = Napi::Array::New(env, r.neighbours.size());
  for (size_t i = 0; i < r.neighbours.size(); i++) {
    const NeighInfo& n = r.neighbours[i];
    Napi::Object row = Napi::Object::New(env);
    row.Set("port", n.port);
    row.Set("ip", ip_str(n.ip));
    row.Set("mac", mac_str(n.mac));
    row.Set("state", n.state == NeighState::kReachable ? "reachable" : "incomplete");
    row.Set("held", n.held);
    rows.Set(uint32_t(i), row);
  }
  o.Set("neighbours", rows);
  return o;
}

}  // namespace

class FulcrumAddon : public Napi::Addon<FulcrumAddon> {
 public:
  FulcrumAddon(Napi::Env, Napi::Object exports) {
    DefineAddon(exports, {
        InstanceMethod("initEal", &FulcrumAddon::InitEal),
        InstanceMethod("start", &FulcrumAddon::Start),
        InstanceMethod("stop", &FulcrumAddon::Stop),
        InstanceMethod("apply", &FulcrumAddon::Apply),
        InstanceMethod("reclaim", &FulcrumAddon::Reclaim),
        InstanceMethod("counters", &FulcrumAddon::Counters),
        InstanceMethod("counterNames", &FulcrumAddon::CounterNames),
        InstanceMethod("request", &FulcrumAddon::Request),
        InstanceMethod("poll", &FulcrumAddon::Poll),
    });
  }
  // Runs at environment teardown (process exit, worker thread end): the
  // workers must be joined before DPDK and the process go away.
  ~FulcrumAddon() { engine_.reset(); }

 private:
  Engine& engine(Napi::Env env) {
    if (!engine_) throw Napi::Error::New(env, "the engine is not running");
    return *engine_;
  }

  Napi::Value InitEal(const Napi::CallbackInfo& info) {
    Napi::Array a = info[0].As<Napi::Array>();
    std::vector<std::string> args;
    for (uint32_t i = 0; i < a.Length(); i++) args.push_back(a.Get(i).ToString());
    std::string err;
    if (!eal_init(args, err)) throw Napi::Error::New(info.Env(), err);
    return info.Env().Undefined();
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!eal_ready()) throw Napi::Error::New(env, "initEal must succeed before start");
    if (engine_) throw Napi::Error::New(env, "the engine is already running");
    EngineConfig cfg = to_engine_config(info[0].As<Napi::Object>());
    std::string err;
    engine_ = Engine::start(cfg, err);
    if (!engine_) throw Napi::Error::New(env, err);
    Napi::Object out = Napi::Object::New(env);
    Napi::Array ports = Napi::Array::New(env);
    for (const Port& p : engine_->ports()) ports.Set(ports.Length(), port_info(env, p));
    Napi::Array lcores = Napi::Array::New(env);
    for (unsigned l : engine_->worker_lcores()) lcores.Set(lcores.Length(), l);
    out.Set("ports", ports);
    out.Set("workerLcores", lcores);
    return out;
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (engine_) engine_->stop();
    return info.Env().Undefined();
  }

  Napi::Value Apply(const Napi::CallbackInfo& info) {
    SnapshotSpec spec = to_snapshot_spec(info[0].As<Napi::Object>());
    std::string err;
    if (!engine(info.Env()).apply(spec, err)) throw Napi::Error::New(info.Env(), err);
    return Napi::Number::New(info.Env(), double(engine_->generation()));
  }

  Napi::Value Reclaim(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), double(engine(info.Env()).reclaim()));
  }

  // The live counter blocks as an ArrayBuffer over the engine's memory:
  // the buffer keeps the blocks alive, so it stays valid after stop().
  Napi::Value Counters(const Napi::CallbackInfo& info) {
    const CounterBlocks& blocks = engine(info.Env()).counters();
    auto* hold = new CounterBlocks(blocks);
    size_t len = sizeof(LcoreCounters) * engine_->workers();
    return Napi::ArrayBuffer::New(info.Env(), blocks.get(), len,
                                  [](Napi::Env, void*, CounterBlocks* h) { delete h; }, hold);
  }

  Napi::Value CounterNames(const Napi::CallbackInfo& info) {
    Napi::Array names = Napi::Array::New(info.Env(), kCounterCount);
    for (size_t i = 0; i < kCounterCount; i++) names.Set(uint32_t(i), kCounterNames[i]);
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("names", names);
    out.Set("stride", Napi::Number::New(info.Env(), double(sizeof(LcoreCounters) / 8)));
    return out;
  }

  Napi::Value Request(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto req = std::make_unique<fulcrum::Request>();
    req->worker = info[0].As<Napi::Number>().Uint32Value();
    std::string kind = info[1].ToString();
    if (kind == "neighbours") req->kind = RequestKind::kDumpNeighbours;
    else if (kind == "zeroCounters") req->kind = RequestKind::kZeroCounters;
    else throw Napi::TypeError::New(env, "unknown request kind '" + kind + "'");
    std::string err;
    uint64_t id = engine(env).submit(std::move(req), err);
    if (id == 0) throw Napi::Error::New(env, err);
    return Napi::Number::New(env, double(id));
  }

  Napi::Value Poll(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env);
    if (!engine_) return out;
    for (auto& r : engine_->poll()) out.Set(out.Length(), request_result(env, *r));
    return out;
  }

  std::unique_ptr<Engine> engine_;
};

NODE_API_ADDON(FulcrumAddon)

}  // namespace fulcrum
