// SPDX-License-Identifier: Apache-2.0
//
// The service part of a snapshot spec, from the validated config.
// Forward modes the dataplane does not implement yet are refused here,
// naming the service and the field, rather than silently dropping traffic.

import { formatIPv4, netmaskPrefix, parseIPv4, prefixMask } from '../config/ipv4';
import type { DestConfig, HealthFailAction, ServiceConfig } from '../config/schema';
import type { ForwardName, ServiceSpec } from './addon';
import { destTable, writeDest } from './dest-table';

const IMPLEMENTED: ReadonlySet<ForwardName> = new Set(['nat', 'dr', 'tun', 'fullnat']);

export function serviceKey(s: ServiceConfig): string {
  return s.name;
}

export function destKey(s: ServiceConfig, d: DestConfig): string {
  return `${s.name}|${d.address}|${d.port}`;
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

/** Local addresses are keyed by address: services sharing one share its port pool. */
export function laddrKeys(services: readonly ServiceConfig[]): string[] {
  const keys = new Set<string>();
  for (const s of services) for (const a of s.local_addresses) keys.add(formatIPv4(parseIPv4(a) as number));
  return [...keys];
}

export interface SpecIds {
  services: ReadonlyMap<string, number>;
  dests: ReadonlyMap<string, number>;
  laddrs: ReadonlyMap<string, number>;
}

export function serviceSpecs(services: readonly ServiceConfig[], ids: SpecIds, overlay?: DestOverlay): ServiceSpec[] {
  return services.map((s, i) => serviceSpec(s, i, ids, overlay));
}

/** Service `s` (services[i] of the config, for messages) with its ids and the overlay's verdicts. */
export function serviceSpec(s: ServiceConfig, i: number, ids: SpecIds, overlay?: DestOverlay): ServiceSpec {
  const { services: serviceIds, dests: destIds, laddrs: laddrIds } = ids;
  forwardOf(s, undefined, i);  // the service's own mode is refused as the service's field
  return {
    id: serviceIds.get(serviceKey(s)) as number,
    proto: s.protocol,
    vip: s.vip,
    port: s.port,
    extra: s.endpoints.map((e) => ({ proto: e.protocol ?? s.protocol, vip: e.vip ?? s.vip, port: e.port })),
    scheduler: s.scheduler,
    sched: {
      mhTableSize: s.mh.table_size,
      mhHashPort: s.mh.hash_port,
      mhFallback: s.mh.fallback,
      lblcExpireMs: s.lblc.expire,
      lblcrShrinkMs: s.lblc.shrink,
    },
    persistMs: (s.persistence?.timeout ?? 0) * 1000,
    expireNodest: s.expire_nodest_conn,
    synproxy: s.synproxy,
    persistMask: formatIPv4(prefixMask(netmaskPrefix(s.persistence?.netmask ?? '255.255.255.255') as number)),
    timeouts: { tcp: seconds(s.timeouts.tcp), tcpfin: seconds(s.timeouts.tcpfin), udp: seconds(s.timeouts.udp) },
    laddrs: s.local_addresses.map((a) => {
      const ip = formatIPv4(parseIPv4(a) as number);
      return { id: laddrIds.get(ip) as number, ip };
    }),
    clientAddress: s.client_address,
    dests: destRows(s, i, destIds, overlay),
  };
}

function destRows(s: ServiceConfig, i: number, destIds: ReadonlyMap<string, number>, overlay?: DestOverlay): Uint32Array {
  const keys = destKeys(s);
  const t = destTable(keys.length);
  for (let j = 0; j < keys.length; j++) {
    const d = s.dests[j];
    const available = overlay?.available(keys[j]) ?? true;
    writeDest(t, j, destIds.get(keys[j]) as number, d.address, d.port, forwardOf(s, d, i, j), d.weight, d.upper, d.lower, available);
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

  /** Changes with every verdict on one of the service's dests. */
  version(service: string): number {
    return this.versions.get(service) ?? 0;
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

  /** The services without their removed dests (the very objects where none is removed). */
  filter(services: readonly ServiceConfig[]): ServiceConfig[] {
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
