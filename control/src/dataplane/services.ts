// SPDX-License-Identifier: Apache-2.0
//
// The service part of a snapshot spec, from the validated config.
// Forward modes the dataplane does not implement yet are refused here,
// naming the service and the field, rather than silently dropping traffic.

import { formatIPv4, netmaskPrefix, parseIPv4, prefixMask } from '../config/ipv4';
import { SCHEDULERS, type DestConfig, type HealthFailAction, type ServiceConfig } from '../config/schema';
import type { ForwardName } from './addon';
import { CLIENT_ADDRESSES, PROTOCOLS, S, serviceTable, writeDest, writeExtra, writeLaddr } from './spec-table';

const IMPLEMENTED: ReadonlySet<ForwardName> = new Set(['nat', 'dr', 'tun', 'fullnat']);

export function serviceKey(s: ServiceConfig): string {
  return s.name;
}

/**
 * What a dest is known by (its id, its checks): service|address|port.
 * Joined, not concatenated: a template literal makes a tree of string
 * pieces, which a Map compares piece by piece and the garbage collector
 * copies node by node; join makes one flat string. With 80,000 dests,
 * looking up an Apply's keys in the ids' Map took 3 x as long.
 */
export function destKeyOf(service: string, address: string, port: number): string {
  return [service, address, port].join('|');
}

export function destKey(s: ServiceConfig, d: DestConfig): string {
  return destKeyOf(s.name, d.address, d.port);
}

// A config object never changes (copy on write), so its dests' keys are
// made once: an Apply that keeps most services builds no key strings for
// them, and the strings keep the hashes the id maps computed.
const destKeyCache = new WeakMap<ServiceConfig, readonly string[]>();

/** The destKey of each of s's dests, in order. */
export function destKeys(s: ServiceConfig): readonly string[] {
  let keys = destKeyCache.get(s);
  if (keys === undefined) {
    keys = s.dests.map((d) => destKey(s, d));
    destKeyCache.set(s, keys);
  }
  return keys;
}

/** The service name a destKey starts with (service names have no '|'). */
function serviceOfKey(key: string): string {
  const bar = key.indexOf('|');
  return bar < 0 ? key : key.slice(0, bar);
}

const NO_KEYS: readonly string[] = [];

/** s's local addresses as keys (one shared empty list for the many services without). */
export function serviceLaddrKeys(s: ServiceConfig): readonly string[] {
  return s.local_addresses.length === 0 ? NO_KEYS : s.local_addresses.map((a) => formatIPv4(parseIPv4(a) as number));
}

/**
 * Local addresses are keyed by address: services sharing one share its
 * port pool. `lists` holds each service's serviceLaddrKeys().
 */
export function laddrKeys(lists: readonly (readonly string[])[]): string[] {
  const keys = new Set<string>();
  for (const list of lists) for (const key of list) keys.add(key);
  return [...keys];
}

export interface SpecIds {
  services: ReadonlyMap<string, number>;
  dests: ReadonlyMap<string, number>;
  laddrs: ReadonlyMap<string, number>;
}

export function serviceSpecs(services: readonly ServiceConfig[], ids: SpecIds, overlay?: DestOverlay): Uint32Array[] {
  return services.map((s, i) => serviceSpec(s, i, ids, overlay));
}

/**
 * Service `s` (services[i] of the config, for messages) with its ids and
 * the overlay's verdicts, packed as the addon reads it (spec-table.ts).
 */
export function serviceSpec(s: ServiceConfig, i: number, ids: SpecIds, overlay?: DestOverlay): Uint32Array {
  forwardOf(s, undefined, i);  // the service's own mode is refused as the service's field
  const keys = destKeys(s);
  const t = serviceTable(s.endpoints.length, s.local_addresses.length, keys.length);
  t[S.id] = ids.services.get(serviceKey(s)) as number;
  t[S.proto] = PROTOCOLS[s.protocol];
  t[S.vip] = parseIPv4(s.vip) as number;
  t[S.port] = s.port;
  t[S.scheduler] = SCHEDULERS.indexOf(s.scheduler);
  t[S.mhTableSize] = s.mh.table_size;
  t[S.mhHashPort] = +s.mh.hash_port;
  t[S.mhFallback] = +s.mh.fallback;
  t[S.lblcExpireMs] = s.lblc.expire;
  t[S.lblcrShrinkMs] = s.lblc.shrink;
  t[S.persistMs] = (s.persistence?.timeout ?? 0) * 1000;
  t[S.persistMask] = prefixMask(netmaskPrefix(s.persistence?.netmask ?? '255.255.255.255') as number);
  t[S.expireNodest] = +s.expire_nodest_conn;
  t[S.synproxy] = +s.synproxy;
  t[S.tcp] = seconds(s.timeouts.tcp);
  t[S.tcpfin] = seconds(s.timeouts.tcpfin);
  t[S.udp] = seconds(s.timeouts.udp);
  t[S.clientAddress] = CLIENT_ADDRESSES.indexOf(s.client_address);
  s.endpoints.forEach((e, k) => writeExtra(t, k, e.protocol ?? s.protocol, e.vip ?? s.vip, e.port));
  s.local_addresses.forEach((a, k) => {
    const ip = parseIPv4(a) as number;
    writeLaddr(t, k, ids.laddrs.get(formatIPv4(ip)) as number, ip);
  });
  for (let j = 0; j < keys.length; j++) {
    const d = s.dests[j];
    const available = overlay?.available(keys[j]) ?? true;
    writeDest(t, j, ids.dests.get(keys[j]) as number, d.address, d.port, forwardOf(s, d, i, j), d.weight, d.upper, d.lower, available);
  }
  return t;
}

// ipvsadm --set takes whole seconds; 0 keeps the default.
function seconds(ms: number | undefined): number {
  return ms === undefined ? 0 : Math.ceil(ms / 1000);
}

// The dest's forward mode (its own, else the service's), refused when the
// dataplane cannot do it yet.
function forwardOf(s: ServiceConfig, d: DestConfig | undefined, i: number, j?: number): ForwardName {
  const mode = d?.forward ?? s.forward;
  if (!IMPLEMENTED.has(mode)) {
    const field = j === undefined ? `services[${i}].forward` : `services[${i}].dests[${j}].forward`;
    if (mode === 'snat') throw new Error(`${field}: snat is not a forward mode of services: source NAT is configured as top-level snat rules`);
    throw new Error(`${field}: forward mode ${mode} is not implemented yet (nat, dr, tun and fullnat are)`);
  }
  return mode;
}

/**
 * Dests that health checks took out, by destKey, laid over every config
 * applied: 'inhibit' keeps the dest with available=false (no new
 * connections, existing ones drain), 'remove' leaves it out of the
 * snapshot. An entry lives while its dest is still configured, so a
 * config applied later keeps a failed dest out. Control thread only.
 */
export class DestOverlay {
  /** destKey -> verdicts by source ("active" checks, "passive" signals). */
  private readonly down = new Map<string, Map<string, HealthFailAction>>();
  /** Service name -> how many times a verdict on one of its dests changed (spec caches compare it). */
  private readonly versions = new Map<string, number>();

  /**
   * Takes a dest out (action) or puts it back (undefined) for one source;
   * the dest is out while any source holds it out ('remove' wins over
   * 'inhibit'). True when the combined verdict changed.
   */
  set(key: string, action: HealthFailAction | undefined, source = 'active'): boolean {
    const before = this.verdict(key);
    const sources = this.down.get(key) ?? new Map<string, HealthFailAction>();
    if (action === undefined) sources.delete(source);
    else sources.set(source, action);
    if (sources.size === 0) this.down.delete(key);
    else this.down.set(key, sources);
    if (this.verdict(key) === before) return false;
    this.bump(serviceOfKey(key));
    return true;
  }

  private bump(service: string): void {
    this.versions.set(service, (this.versions.get(service) ?? 0) + 1);
  }

  /** Changes with every verdict on one of s's dests. */
  version(s: ServiceConfig): number {
    // Asked of every service per publication: before the first verdict,
    // neither a lookup nor a read of s (a cache miss each, at 10,000).
    return this.versions.size === 0 ? 0 : (this.versions.get(s.name) ?? 0);
  }

  /** Forgets dests no longer configured. Costs what is held out, not what is configured. */
  retain(services: readonly ServiceConfig[]): void {
    if (this.down.size === 0) return;
    const byName = new Map(services.map((s) => [s.name, s]));
    for (const key of this.down.keys()) {
      const s = byName.get(serviceOfKey(key));
      if (s !== undefined && s.dests.some((d) => destKey(s, d) === key)) continue;
      this.down.delete(key);
      this.bump(serviceOfKey(key));
    }
  }

  /**
   * The services without their removed dests (the very objects where none
   * is removed; the very list when no dest is down).
   */
  filter(services: readonly ServiceConfig[]): readonly ServiceConfig[] {
    if (this.down.size === 0) return services;
    const held = new Set([...this.down.keys()].map(serviceOfKey));
    return services.map((s) => {
      if (!held.has(s.name)) return s;
      const dests = s.dests.filter((d) => this.verdict(destKey(s, d)) !== 'remove');
      return dests.length === s.dests.length ? s : { ...s, dests };
    });
  }

  available(key: string): boolean {
    return !this.down.has(key);
  }

  private verdict(key: string): HealthFailAction | undefined {
    const actions = [...(this.down.get(key)?.values() ?? [])];
    return actions.includes('remove') ? 'remove' : actions.length > 0 ? 'inhibit' : undefined;
  }
}
