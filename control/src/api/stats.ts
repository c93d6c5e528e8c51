// SPDX-License-Identifier: Apache-2.0
//
// GetStats: counters read from the workers' zero-copy rows, and rates
// from two such samples `window` apart (ipvsadm --rate). The counters
// only grow, so a rate is the difference over the elapsed time, measured
// with the monotonic clock rather than taken from the requested window.

import type { SnatConfig } from '../config/schema';
import type { CounterSet } from '../dataplane/counters';
import type { Dataplane, ServiceListing } from '../dataplane/dataplane';
import type { Counters } from './gen/fulcrum/v1/Counters';
import type { LocalAddressStats } from './gen/fulcrum/v1/LocalAddressStats';
import type { PoolStats__Output } from './gen/fulcrum/v1/PoolStats';
import type { GetStatsResponse } from './gen/fulcrum/v1/GetStatsResponse';
import type { Rates } from './gen/fulcrum/v1/Rates';
import type { ServiceStats } from './gen/fulcrum/v1/ServiceStats';
import type { WorkerStats } from './gen/fulcrum/v1/WorkerStats';
import { durationOut } from './convert';

export const MIN_WINDOW_MS = 100;
export const MAX_WINDOW_MS = 10_000;

interface Sample {
  /** Monotonic, nanoseconds. */
  at: bigint;
  workers: CounterSet[];
  services: ServiceListing[];
  snat: { config: SnatConfig; stats: CounterSet }[];
}

function sample(dp: Dataplane): Sample {
  const view = dp.counters;
  return {
    at: process.hrtime.bigint(),
    workers: dp.startInfo.workerLcores.map((_, w) => view.row(w)),
    services: dp.services(),
    snat: dp.snatRules(),
  };
}

/** Counters now, and rates over `windowMs` (0: none) waited for without blocking. */
export async function collectStats(dp: Dataplane, windowMs: number): Promise<GetStatsResponse> {
  const first = sample(dp);
  if (windowMs === 0) return encode(dp, first, undefined);
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  return encode(dp, sample(dp), first);
}

function encode(dp: Dataplane, now: Sample, before: Sample | undefined): GetStatsResponse {
  const seconds = before === undefined ? 0 : Number(now.at - before.at) / 1e9;
  const rate = (a: bigint, b: bigint | undefined) => (b === undefined || seconds === 0 ? 0 : Number(a - b) / seconds);
  const lcores = dp.startInfo.workerLcores;
  const workers: WorkerStats[] = now.workers.map((c, w) => ({
    lcore: lcores[w],
    counters: Object.fromEntries(Object.entries(c).map(([k, v]) => [k, String(v)])),
    rates: before === undefined ? {} : Object.fromEntries(Object.entries(c).map(([k, v]) => [k, rate(v, before.workers[w][k])])),
  }));
  // Matched by name, not searched: 10,000 services' rates are not 50 million comparisons.
  const earlier = new Map(before?.services.map((s) => [s.config.name, s]));
  const services = now.services.map((s) => serviceStats(s, earlier.get(s.config.name), rate));
  const earlierSnat = new Map(before?.snat.map((r) => [r.config.name, r]));
  const snat_rules = now.snat.map((r) => {
    const old = earlierSnat.get(r.config.name);
    return { name: r.config.name, counters: counters(r.stats), rates: rates(r.stats, old?.stats, rate) };
  });
  return {
    workers, services, snat_rules, local_addresses: localAddresses(dp), pools: poolStats(dp),
    window: durationOut(Math.round(seconds * 1000)),
  };
}

/** Every pool's level now, as GetStats reports it (the status dump prints the same). */
export function poolStats(dp: Dataplane): PoolStats__Output[] {
  return dp.pools().map((p) => ({
    pool: p.pool,
    lcore: 'lcore' in p ? p.lcore : 0,
    port: 'port' in p ? p.port : '',
    used: String(p.used),
    capacity: String(p.capacity),
    templates: String(p.pool === 'connections' ? p.templates : 0),
  }));
}

function localAddresses(dp: Dataplane): LocalAddressStats[] {
  const lcores = dp.startInfo.workerLcores;
  return dp.laddrs().map((l) => ({
    address: l.address,
    workers: l.workers.map((w, i) => ({
      lcore: lcores[i],
      used: String(w.used),
      capacity: String(w.capacity),
      exhausted: String(w.exhausted),
      conns: String(w.conns),
    })),
  }));
}

type RateFn = (a: bigint, b: bigint | undefined) => number;

function serviceStats(s: ServiceListing, before: ServiceListing | undefined, rate: RateFn): ServiceStats {
  // A service's connections now are its dests' (its own row has no such count).
  const sum = (field: string) => s.dests.reduce((t, d) => t + d.stats[field], 0n);
  const own: CounterSet = { ...s.stats, active: sum('active'), inactive: sum('inactive'), persistent: sum('persistent') };
  const endpoint = (d: ServiceListing['dests'][number]) => `${d.config.address}:${d.config.port}`;
  // Without a window there is nothing to match: no key per dest of 80,000.
  const earlier = before === undefined ? undefined : new Map(before.dests.map((d) => [endpoint(d), d]));
  const dests = s.dests.map((d) => {
    const old = earlier?.get(endpoint(d));
    return { address: d.config.address, port: d.config.port, counters: counters(d.stats), rates: rates(d.stats, old?.stats, rate) };
  });
  return { name: s.config.name, counters: counters(own), rates: rates(s.stats, before?.stats, rate), dests };
}

const RATE_FIELDS = ['conns', 'inpkts', 'outpkts', 'inbytes', 'outbytes'] as const;

// A literal, not Object.fromEntries over the field list: this runs for
// every service and dest of a GetStats.
function counters(c: CounterSet): Counters {
  const text = (v: bigint | undefined) => String(v ?? 0n);
  return {
    conns: text(c.conns), inpkts: text(c.inpkts), outpkts: text(c.outpkts), inbytes: text(c.inbytes),
    outbytes: text(c.outbytes), active: text(c.active), inactive: text(c.inactive), persistent: text(c.persistent),
  };
}

function rates(now: CounterSet, before: CounterSet | undefined, rate: RateFn): Rates | null {
  if (before === undefined) return null;
  return Object.fromEntries(RATE_FIELDS.map((f) => [`${f}_per_s`, rate(now[f] ?? 0n, before[f])]));
}
