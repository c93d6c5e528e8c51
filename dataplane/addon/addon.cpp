// SPDX-License-Identifier: Apache-2.0
//
// The Node binding: translation between JavaScript values and the engine's
// plain structs, nothing else. TypeScript validates everything first; the
// checks here only keep a wrong call from reaching DPDK. Every entry point
// runs on the JS main thread (the EAL main lcore) and returns at once:
// worker requests complete later and are collected with poll().
#include <napi.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <iterator>
#include <memory>
#include <string>

#include "addon/durable_write.hpp"
#include "ctrl/spec_table.hpp"
#include "engine/eal.hpp"
#include "engine/engine.hpp"
#include "net/prefix.hpp"
#include "sched/scheduler.hpp"

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
                                 uint16_t(get_u32(p, "mtu", 1500)), get_u32(p, "txCoalesceUs", 0)});
  }
  cfg.setup.mbufs = get_u32(o, "mbufs", cfg.setup.mbufs);
  cfg.setup.mbuf_cache = get_u32(o, "mbufCache", cfg.setup.mbuf_cache);
  cfg.setup.rx_desc = uint16_t(get_u32(o, "rxDesc", cfg.setup.rx_desc));
  cfg.setup.tx_desc = uint16_t(get_u32(o, "txDesc", cfg.setup.tx_desc));
  cfg.idle_sleep_us = get_u32(o, "idleSleepUs", 0);
  cfg.ipvs.max_conns = get_u32(o, "maxConns", cfg.ipvs.max_conns);
  cfg.ipvs.max_services = get_u32(o, "maxServices", cfg.ipvs.max_services);
  cfg.ipvs.max_dests = get_u32(o, "maxDests", cfg.ipvs.max_dests);
  cfg.ipvs.max_laddrs = get_u32(o, "maxLaddrs", cfg.ipvs.max_laddrs);
  cfg.ipvs.lports.first = uint16_t(get_u32(o, "lportFirst", cfg.ipvs.lports.first));
  cfg.ipvs.lports.last = uint16_t(get_u32(o, "lportLast", cfg.ipvs.lports.last));
  Napi::Value spv = o.Get("synproxy");
  if (spv.IsObject()) {
    Napi::Object sp = spv.As<Napi::Object>();
    SynproxyConfig& c = cfg.ipvs.synproxy;
    c.mss = uint16_t(get_u32(sp, "mss", c.mss));
    c.wscale = uint8_t(get_u32(sp, "wscale", c.wscale));
    c.sack = sp.Get("sack").ToBoolean();
    c.timestamps = sp.Get("timestamps").ToBoolean();
    c.ttl = uint8_t(get_u32(sp, "ttl", c.ttl));
    c.retries = uint8_t(get_u32(sp, "retries", c.retries));
    c.hold = uint8_t(std::min<uint32_t>(get_u32(sp, "hold", c.hold), kSynproxyHoldMax));
    c.retry_ms = get_u32(sp, "retryMs", c.retry_ms);
    c.max_conns = get_u32(sp, "maxConns", c.max_conns);
  }
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

std::string get_str(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string("expected a string in '") + key + "'");
  return v.As<Napi::String>().Utf8Value();
}

std::vector<Laddr> to_laddrs(const Napi::Object& o) {
  std::vector<Laddr> out;
  Napi::Value lv = o.Get("laddrs");
  if (!lv.IsArray()) return out;
  Napi::Array laddrs = lv.As<Napi::Array>();
  for (uint32_t i = 0; i < laddrs.Length(); i++) {
    Napi::Object a = laddrs.Get(i).As<Napi::Object>();
    out.push_back(Laddr{get_u32(a, "id", 0), get_ip(a, "ip")});
  }
  return out;
}

SnatSpec to_snat_spec(const Napi::Object& r) {
  int32_t out_port = r.Get("outPort").IsNumber() ? int32_t(get_u32(r, "outPort", 0)) : -1;
  return SnatSpec{get_u32(r, "id", 0), get_u32(r, "destId", 0), get_ip(r, "src"),
                  uint8_t(get_u32(r, "srcDepth", 32)), get_ip(r, "dst"), uint8_t(get_u32(r, "dstDepth", 0)),
                  out_port, to_laddrs(r)};
}

// A service crosses as one Uint32Array (ctrl/spec_table.hpp); a number is
// the id of a service the last successful apply sent the same way
// (control/src/dataplane/spec-cache.ts): the snapshot keeps the previous
// snapshot's service of that id, so only the changed ones cross N-API and
// are built.
ServiceSpec service_spec_or_kept(Napi::Env env, const Napi::Value& v) {
  ServiceSpec spec{};
  if (v.IsNumber()) {
    spec.id = v.As<Napi::Number>().Uint32Value();
    spec.keep = true;
    return spec;
  }
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
    throw Napi::TypeError::New(env, "expected a service id or a Uint32Array in 'services'");
  Napi::Uint32Array words = v.As<Napi::Uint32Array>();
  std::string err;
  if (!read_service_spec(words.Data(), words.ElementLength(), spec, err)) throw Napi::TypeError::New(env, err);
  return spec;
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
  Napi::Value sv = o.Get("services");
  if (sv.IsArray()) {
    Napi::Array services = sv.As<Napi::Array>();
    spec.services.reserve(services.Length());
    for (uint32_t i = 0; i < services.Length(); i++) spec.services.push_back(service_spec_or_kept(o.Env(), services.Get(i)));
  }
  Napi::Value nv = o.Get("snat");
  if (nv.IsArray()) {
    Napi::Array rules = nv.As<Napi::Array>();
    for (uint32_t i = 0; i < rules.Length(); i++) spec.snat.push_back(to_snat_spec(rules.Get(i).As<Napi::Object>()));
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
  o.Set("flowRules", p.flow_rules.empty() ? std::string("supported") : p.flow_rules);
  return o;
}

Napi::Array neighbour_rows(Napi::Env env, const std::vector<NeighInfo>& rows) {
  Napi::Array out = Napi::Array::New(env, rows.size());
  for (size_t i = 0; i < rows.size(); i++) {
    const NeighInfo& n = rows[i];
    Napi::Object row = Napi::Object::New(env);
    row.Set("port", n.port);
    row.Set("ip", ip_str(n.ip));
    row.Set("mac", mac_str(n.mac));
    row.Set("state", n.state == NeighState::kReachable ? "reachable" : "incomplete");
    row.Set("held", n.held);
    out.Set(uint32_t(i), row);
  }
  return out;
}

Napi::Array conn_rows(Napi::Env env, const std::vector<ConnInfo>& rows) {
  Napi::Array out = Napi::Array::New(env, rows.size());
  for (size_t i = 0; i < rows.size(); i++) {
    const ConnInfo& c = rows[i];
    Napi::Object row = Napi::Object::New(env);
    row.Set("proto", c.proto == IPPROTO_UDP ? "udp" : c.proto == IPPROTO_TCP ? "tcp" : "group");
    row.Set("state", c.is_template ? "NONE" : c.proto == IPPROTO_UDP ? "UDP" : tcp_state_name(TcpState(c.state)));
    row.Set("template", c.is_template);
    row.Set("caddr", ip_str(c.caddr));
    row.Set("cport", ntohs(c.cport));
    row.Set("vaddr", ip_str(c.vaddr));
    row.Set("vport", ntohs(c.vport));
    row.Set("daddr", ip_str(c.daddr));
    row.Set("dport", ntohs(c.dport));
    row.Set("serviceId", c.service_id);
    row.Set("destId", c.dest_id);
    row.Set("expiresMs", c.expires_ms);
    row.Set("worker", c.worker);
    if (c.laddr != 0) {
      row.Set("laddr", ip_str(c.laddr));
      row.Set("lport", ntohs(c.lport));
    }
    out.Set(uint32_t(i), row);
  }
  return out;
}

Napi::Object request_result(Napi::Env env, const Request& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", double(r.id));
  o.Set("worker", r.worker);
  if (r.kind == RequestKind::kDumpNeighbours) o.Set("neighbours", neighbour_rows(env, r.neighbours));
  if (r.kind == RequestKind::kDumpConns) o.Set("conns", conn_rows(env, r.conns));
  return o;
}

ConnFilter to_conn_filter(const Napi::Value& v) {
  ConnFilter f;
  if (!v.IsObject()) return f;
  Napi::Object o = v.As<Napi::Object>();
  f.service_id = get_u32(o, "serviceId", f.service_id);
  f.dest_id = get_u32(o, "destId", f.dest_id);
  if (o.Get("client").IsString()) {
    f.caddr = get_ip(o, "client");
    uint32_t bits = get_u32(o, "clientPrefix", 32);
    f.cmask = prefix_mask(uint8_t(std::min(bits, 32u)));
  }
  f.limit = get_u32(o, "limit", f.limit);
  if (o.Get("templates").IsBoolean()) f.templates = o.Get("templates").ToBoolean() ? 1 : 0;
  if (o.Get("state").IsString()) {
    std::string want = get_str(o, "state");
    for (uint8_t st = 0; st < kTcpStateCount; st++)
      if (want == tcp_state_name(TcpState(st))) f.state = st;
    if (f.state < 0) throw Napi::TypeError::New(v.Env(), "unknown TCP state '" + want + "'");
  }
  return f;
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
        InstanceMethod("lastApplyTimes", &FulcrumAddon::LastApplyTimes),
        InstanceMethod("reclaim", &FulcrumAddon::Reclaim),
        InstanceMethod("counters", &FulcrumAddon::Counters),
        InstanceMethod("counterNames", &FulcrumAddon::CounterNames),
        InstanceMethod("destStats", &FulcrumAddon::DestStatsBuffer),
        InstanceMethod("serviceStats", &FulcrumAddon::ServiceStatsBuffer),
        InstanceMethod("laddrStats", &FulcrumAddon::LaddrStatsBuffer),
        InstanceMethod("statNames", &FulcrumAddon::StatNames),
        InstanceMethod("specLayout", &FulcrumAddon::SpecLayout),
        InstanceMethod("pools", &FulcrumAddon::Pools),
        InstanceMethod("request", &FulcrumAddon::Request),
        InstanceMethod("poll", &FulcrumAddon::Poll),
        InstanceMethod("writeFileDurable", &FulcrumAddon::WriteFileDurable),
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

  // Seconds the last apply spent building the snapshot and publishing it.
  Napi::Value LastApplyTimes(const Napi::CallbackInfo& info) {
    const Engine::ApplyTimes& t = engine(info.Env()).last_apply();
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("build", double(t.build_ns) / 1e9);
    out.Set("publish", double(t.publish_ns) / 1e9);
    return out;
  }

  Napi::Value Reclaim(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), double(engine(info.Env()).reclaim()));
  }

  // Live statistics as an ArrayBuffer over the engine's memory: the buffer
  // holds a reference to the blocks, so it stays valid after stop().
  template <class T>
  static Napi::Value shared_buffer(Napi::Env env, const std::shared_ptr<T[]>& blocks, size_t count) {
    auto* hold = new std::shared_ptr<T[]>(blocks);
    return Napi::ArrayBuffer::New(env, blocks.get(), sizeof(T) * count,
                                  [](Napi::Env, void*, std::shared_ptr<T[]>* h) { delete h; }, hold);
  }

  Napi::Value Counters(const Napi::CallbackInfo& info) {
    Engine& e = engine(info.Env());
    return shared_buffer(info.Env(), e.counters(), e.workers());
  }

  Napi::Value DestStatsBuffer(const Napi::CallbackInfo& info) {
    Engine& e = engine(info.Env());
    return shared_buffer(info.Env(), e.dest_stats(), size_t(e.workers()) * e.ipvs_config().max_dests);
  }

  Napi::Value ServiceStatsBuffer(const Napi::CallbackInfo& info) {
    Engine& e = engine(info.Env());
    return shared_buffer(info.Env(), e.service_stats(), size_t(e.workers()) * e.ipvs_config().max_services);
  }

  Napi::Value LaddrStatsBuffer(const Napi::CallbackInfo& info) {
    Engine& e = engine(info.Env());
    return shared_buffer(info.Env(), e.laddr_stats(), size_t(e.workers()) * e.ipvs_config().max_laddrs);
  }

  static Napi::Object layout(Napi::Env env, const char* const* names, size_t n, size_t row_bytes) {
    Napi::Array arr = Napi::Array::New(env, n);
    for (size_t i = 0; i < n; i++) arr.Set(uint32_t(i), names[i]);
    Napi::Object out = Napi::Object::New(env);
    out.Set("names", arr);
    out.Set("stride", Napi::Number::New(env, double(row_bytes / 8)));
    return out;
  }

  Napi::Value StatNames(const Napi::CallbackInfo& info) {
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("service", layout(info.Env(), kServiceStatNames, size_t(ServiceStat::count), sizeof(ServiceStats)));
    out.Set("dest", layout(info.Env(), kDestStatNames, size_t(DestStat::count), sizeof(DestStats)));
    out.Set("laddr", layout(info.Env(), kLaddrStatNames, size_t(LaddrStat::count), sizeof(LaddrStats)));
    return out;
  }

  // The packed service apply() takes: each part's words in order, and the lists its words index.
  Napi::Value SpecLayout(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto names = [&](auto begin, auto end, auto name) {
      Napi::Array out = Napi::Array::New(env);
      for (auto it = begin; it != end; ++it) out.Set(out.Length(), name(*it));
      return out;
    };
    auto same = [](const auto& x) { return x; };
    auto first = [](const auto& x) { return x.first; };
    std::vector<std::string> schedulers = scheduler_names();
    Napi::Object out = Napi::Object::New(env);
    out.Set("service", names(std::begin(kServiceWordNames), std::end(kServiceWordNames), same));
    out.Set("extra", names(std::begin(kExtraWordNames), std::end(kExtraWordNames), same));
    out.Set("laddr", names(std::begin(kLaddrWordNames), std::end(kLaddrWordNames), same));
    out.Set("dest", names(std::begin(kDestWordNames), std::end(kDestWordNames), same));
    out.Set("forwards", names(std::begin(kFwdModes), std::end(kFwdModes), first));
    out.Set("schedulers", names(schedulers.begin(), schedulers.end(), same));
    out.Set("clientAddresses", names(std::begin(kClientAddrs), std::end(kClientAddrs), first));
    return out;
  }

  static Napi::Array levels(Napi::Env env, const std::vector<PoolLevel>& pools) {
    Napi::Array out = Napi::Array::New(env, pools.size());
    for (size_t i = 0; i < pools.size(); i++) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("used", pools[i].used);
      o.Set("capacity", pools[i].capacity);
      out.Set(uint32_t(i), o);
    }
    return out;
  }

  // The mempools' fill levels now: per port (mbufs) and per worker (SYN proxy states).
  Napi::Value Pools(const Napi::CallbackInfo& info) {
    Engine& e = engine(info.Env());
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("mbufs", levels(info.Env(), e.mbuf_pools()));
    out.Set("synproxy", levels(info.Env(), e.synproxy_pools()));
    return out;
  }

  Napi::Value CounterNames(const Napi::CallbackInfo& info) {
    return layout(info.Env(), kCounterNames, kCounterCount, sizeof(LcoreCounters));
  }

  Napi::Value Request(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto req = std::make_unique<fulcrum::Request>();
    req->worker = info[0].As<Napi::Number>().Uint32Value();
    std::string kind = info[1].ToString();
    if (kind == "neighbours") req->kind = RequestKind::kDumpNeighbours;
    else if (kind == "zeroCounters") req->kind = RequestKind::kZeroCounters;
    else if (kind == "conns") {
      req->kind = RequestKind::kDumpConns;
      req->conn_filter = to_conn_filter(info[2]);
    }
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

  // The state file's save (durable_write.hpp): not the engine's, but the
  // addon is where this process runs native code.
  Napi::Value WriteFileDurable(const Napi::CallbackInfo& info) { return write_file_durable(info); }

  std::unique_ptr<Engine> engine_;
};

NODE_API_ADDON(FulcrumAddon)

}  // namespace fulcrum
