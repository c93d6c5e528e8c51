// SPDX-License-Identifier: Apache-2.0
//
// Translation of a validated config into what the engine takes: the start
// spec (ports, pools, timers) and the snapshot spec (addresses, routes).
// Pure functions: the config was validated before it gets here.

import { defaultTxCoalesceUs } from '../config/device';
import { portDeviceName } from '../config/eal';
import { formatIPv4, inSubnet, parseCidr, parseIPv4, type Cidr } from '../config/ipv4';
import type { FulcrumConfig, RouteConfig } from '../config/schema';
import type { EngineStartSpec, SnapshotSpec, SnatSpec } from './addon';

export function engineStartSpec(cfg: FulcrumConfig): EngineStartSpec {
  const dp = cfg.dataplane;
  return {
    ports: dp.ports.map((p) => ({
      name: p.name, device: portDeviceName(p.device), mtu: p.mtu,
      txCoalesceUs: p.tx_coalesce_us ?? defaultTxCoalesceUs(p.device),
    })),
    maxConns: dp.max_conns,
    maxServices: dp.max_services,
    maxDests: dp.max_dests,
    maxLaddrs: dp.max_laddrs,
    lportFirst: dp.local_ports.first,
    lportLast: dp.local_ports.last,
    synproxy: {
      mss: dp.synproxy.mss,
      wscale: dp.synproxy.wscale,
      sack: dp.synproxy.sack,
      timestamps: dp.synproxy.timestamps,
      ttl: dp.synproxy.ttl,
      retries: dp.synproxy.retries,
      hold: dp.synproxy.hold,
      retryMs: dp.synproxy.retry,
      maxConns: dp.synproxy.max_conns ?? dp.max_conns,
    },
    mbufs: dp.mbufs,
    mbufCache: dp.mbuf_cache,
    rxDesc: dp.rx_desc,
    txDesc: dp.tx_desc,
    idleSleepUs: dp.idle_sleep_us,
    neighbours: {
      max: dp.neighbours.max,
      reachableMs: dp.neighbours.reachable,
      retryMs: dp.neighbours.retry,
      retries: dp.neighbours.retries,
      hold: dp.neighbours.hold,
    },
  };
}

/** Addresses and routes; services come from serviceSpecs with their ids. */
export function snapshotSpec(cfg: FulcrumConfig, services: SnapshotSpec['services'], snat: SnatSpec[] = []): SnapshotSpec {
  const subnets = cfg.dataplane.ports.map((p) => parseCidr(p.address) as Cidr);
  return {
    addresses: subnets.map((c, port) => ({ ip: formatIPv4(c.address), prefix: c.prefix, port })),
    routes: cfg.dataplane.routes.map((r) => routeSpec(cfg, subnets, r)),
    services,
    snat,
  };
}

// The output port of a route: the one named, else the one whose subnet
// holds the gateway (validation guarantees one exists).
function routeSpec(cfg: FulcrumConfig, subnets: Cidr[], r: RouteConfig): SnapshotSpec['routes'][number] {
  const prefix = parseCidr(r.prefix) as Cidr;
  const gw = r.via === undefined ? undefined : (parseIPv4(r.via) as number);
  const port =
    r.port !== undefined
      ? cfg.dataplane.ports.findIndex((p) => p.name === r.port)
      : subnets.findIndex((s) => inSubnet(gw as number, s));
  return {
    prefix: formatIPv4(prefix.address),
    depth: prefix.prefix,
    port,
    ...(gw === undefined ? {} : { gateway: formatIPv4(gw) }),
  };
}
