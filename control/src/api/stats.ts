// SPDX-License-Identifier: Apache-2.0
//
// GetStats: counters read from the workers' zero-copy rows, and rates
// from two such samples `window` apart (ipvsadm --rate). The counters
// only grow, so a rate is the difference over the elapsed time, measured
// with the monotonic clock rather than taken from the requested window.
//
// At 10,000 services x 8 dests the services' part is 80,000 messages,
// and built as objects of decimal strings for the loader to encode it
// took over a second in one turn of the event loop. So the services'
// rows are read at one instant as numbers (StatView.sums), and that part
// is encoded here straight from them, SLICE_MESSAGES services at a time
// with a turn of the event loop between slices; the reply goes out as
// those bytes (reply-wire.ts). The rest of the reply (workers, pools,
// SNAT rules: a few messages) takes the loader's path.

import { setImmediate as nextTurn } from 'node:timers/promises';

import { Writer } from 'protobufjs';

import type { SnatConfig } from '../config/schema';
import type { CounterSet, RowSums, U64 } from '../dataplane/counters';
import type { Dataplane, ServiceSample } from '../dataplane/dataplane';
import { StateError } from '../state/errors';
import type { LocalAddressStats } from './gen/fulcrum/v1/LocalAddressStats';
import type { PoolStats__Output } from './gen/fulcrum/v1/PoolStats';
import type { GetStatsResponse } from './gen/fulcrum/v1/GetStatsResponse';
import type { WorkerStats } from './gen/fulcrum/v1/WorkerStats';
import { durationOut } from './convert';
import { encoderOf } from './fast-encode';
import { fulcrumTypes } from './proto';
import { loaderReplySerializer, messageTag, SLICE_MESSAGES } from './reply-wire';

export const MIN_WINDOW_MS = 100;
export const MAX_WINDOW_MS = 10_000;

/** What a GetStats asks for. */
export interface StatsRequest {
  /** 0: counters only; otherwise rates over this window. */
  windowMs: number;
  /** Only these services; empty: every one. */
  services: readonly string[];
  /** No services and no SNAT rules. */
  workersOnly: boolean;
}

interface Sample {
  /** Monotonic, nanoseconds. */
  at: bigint;
  workers: CounterSet[];
  /** undefined: workers only. */
  services: ServiceSample | undefined;
  snat: { config: SnatConfig; stats: CounterSet }[];
}

function sample(dp: Dataplane, req: StatsRequest): Sample {
  const view = dp.counters;
  return {
    at: process.hrtime.bigint(),
    workers: dp.startInfo.workerLcores.map((_, w) => view.row(w)),
    services: req.workersOnly ? undefined : dp.sampleServices(req.services.length === 0 ? undefined : req.services),
    snat: req.workersOnly ? [] : dp.snatRules(),
  };
}

/**
 * The encoded GetStatsResponse: counters now, and rates over the window
 * (0: none) waited for without blocking. A service named that is not
 * running is NOT_FOUND; one deleted during the window is left out.
 */
export async function collectStats(dp: Dataplane, req: StatsRequest): Promise<Buffer> {
  const first = sample(dp, req);
  const missing = first.services?.missing[0];
  if (missing !== undefined) throw new StateError('not_found', `no service named '${missing}'`);
  if (req.windowMs === 0) return encode(dp, first, undefined);
  await clockPast(first.at + BigInt(req.windowMs) * 1_000_000n);
  return encode(dp, sample(dp, req), first);
}

/**
 * Resolves once the monotonic clock is past `at` (ns). A timer alone may
 * fire a little early by it: it counts from the event loop's cached time,
 * which is as old as the turn that set it; the window reported would
 * then be shorter than the one asked for.
 */
export async function clockPast(at: bigint): Promise<void> {
  for (let left = at - process.hrtime.bigint(); left > 0n; left = at - process.hrtime.bigint()) {
    await new Promise((resolve) => setTimeout(resolve, Math.ceil(Number(left) / 1e6)));
  }
}

type RateFn = (now: U64, before: U64 | undefined) => number;

/** Per second over `seconds` (0: no window, every rate 0); no earlier value: 0. */
function rateOver(seconds: number): RateFn {
  return (a, b) => (b === undefined || seconds === 0 ? 0 : difference(a, b) / seconds);
}

async function encode(dp: Dataplane, now: Sample, before: Sample | undefined): Promise<Buffer> {
  const seconds = before === undefined ? 0 : Number(now.at - before.at) / 1e9;
  const rate = rateOver(seconds);
  const lcores = dp.startInfo.workerLcores;
  const workers: WorkerStats[] = now.workers.map((c, w) => ({
    lcore: lcores[w],
    counters: Object.fromEntries(Object.entries(c).map(([k, v]) => [k, String(v)])),
    rates: before === undefined ? {} : Object.fromEntries(Object.entries(c).map(([k, v]) => [k, rate(v, before.workers[w][k])])),
  }));
  const earlierSnat = new Map(before?.snat.map((r) => [r.config.name, r]));
  const snat_rules = now.snat.map((r) => {
    const old = earlierSnat.get(r.config.name);
    const values = counterValues(r.stats);
    return { name: r.config.name, counters: countersOut(values), rates: old === undefined ? null : ratesOut(values, counterValues(old.stats), rate) };
  });
  const rest: GetStatsResponse = {
    workers, snat_rules, local_addresses: localAddresses(dp), pools: poolStats(dp),
    window: durationOut(Math.round(seconds * 1000)),
  };
  const services = now.services === undefined ? [] : await servicesWire(now.services, before?.services, seconds);
  return Buffer.concat([loaderReplySerializer('GetStats')(rest), ...services]);
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

const RATE_FIELDS = ['conns', 'inpkts', 'outpkts', 'inbytes', 'outbytes'] as const;
const COUNTER_FIELDS = [...RATE_FIELDS, 'active', 'inactive', 'persistent'] as const;
// A service's connections now are its dests' (its own row has no such count).
const CONNECTION_FIELDS = new Set<string>(['active', 'inactive', 'persistent']);

/** A row read as a CounterSet (an SNAT rule's) as the values countersOut() and ratesOut() take. */
function counterValues(c: CounterSet): U64[] {
  return COUNTER_FIELDS.map((f) => {
    const v = c[f] ?? 0n;
    return v <= Number.MAX_SAFE_INTEGER ? Number(v) : v;
  });
}

/** a - b as a double (exactly, when either is past 2^53). */
function difference(a: U64, b: U64): number {
  return typeof a === 'number' && typeof b === 'number' ? a - b : Number(BigInt(a) - BigInt(b));
}

function add(a: U64, b: U64): U64 {
  if (typeof a === 'number' && typeof b === 'number' && a + b <= Number.MAX_SAFE_INTEGER) return a + b;
  return BigInt(a) + BigInt(b);
}

/** A uint64 as protobufjs writes one: a number, or its 32-bit halves past 2^53. */
function wire(v: U64): number | { low: number; high: number } {
  return typeof v === 'number' ? v : { low: Number(v & 0xffffffffn), high: Number(v >> 32n) };
}

// ----------------------------------------------- the services' part, encoded here

const SERVICES_TAG = messageTag(2);  // GetStatsResponse.services

let encodeServiceStats: ((message: object) => Buffer) | undefined;

/** Where each Counters and Rates field is in a row (-1: not there, 0). */
interface Layout {
  service: number[];
  dest: number[];
}

function layout(s: ServiceSample): Layout {
  return {
    service: COUNTER_FIELDS.map((f) => (CONNECTION_FIELDS.has(f) ? -1 : s.fields.service.indexOf(f))),
    dest: COUNTER_FIELDS.map((f) => s.fields.dest.indexOf(f)),
  };
}

/**
 * GetStatsResponse.services as wire bytes, one chunk a slice, with a turn
 * of the event loop between slices; rates against `before`, taken `seconds`
 * earlier. Only the samples are read: the config and the rows may change
 * meanwhile.
 */
export async function servicesWire(now: ServiceSample, before: ServiceSample | undefined, seconds: number): Promise<Uint8Array[]> {
  const rate = rateOver(seconds);
  encodeServiceStats ??= encoderOf(fulcrumTypes().lookupType('fulcrum.v1.ServiceStats'));
  const at = { now: layout(now), before: before === undefined ? undefined : layout(before) };
  const earlier = new Map(before?.services.map((s, i) => [s.name, i]));
  const chunks: Uint8Array[] = [];
  for (let from = 0; from < now.services.length; from += SLICE_MESSAGES) {
    if (from > 0) await nextTurn();
    const w = Writer.create();
    for (let i = from; i < Math.min(from + SLICE_MESSAGES, now.services.length); i++) {
      const j = earlier.get(now.services[i].name);
      const message = serviceStats(now, i, at.now, before === undefined || j === undefined ? undefined : { sample: before, i: j, at: at.before! }, rate);
      w.uint32(SERVICES_TAG).bytes(encodeServiceStats(message));
    }
    chunks.push(w.finish());
  }
  return chunks;
}

interface Earlier {
  sample: ServiceSample;
  /** The service's position in it. */
  i: number;
  at: Layout;
}

/** Values of row `row` of sums at these positions (-1: 0). */
function values(sums: RowSums, row: number, at: readonly number[]): U64[] {
  return at.map((f) => (f < 0 ? 0 : sums.get(row, f)));
}

/** ServiceStats of the sample's service i, as protobufjs encodes it. */
function serviceStats(s: ServiceSample, i: number, at: Layout, before: Earlier | undefined, rate: RateFn): object {
  const config = s.services[i];
  const from = s.destStart[i];
  const dests = config.dests.map((_, k) => values(s.dests, from + k, at.dest));
  const own = values(s.own, i, at.service);
  COUNTER_FIELDS.forEach((f, n) => {
    if (CONNECTION_FIELDS.has(f)) own[n] = dests.reduce((t, d) => add(t, d[n]), 0 as U64);
  });
  const was = before === undefined ? undefined : earlierDests(s, i, before);
  return {
    name: config.name,
    counters: countersOut(own),
    rates: before === undefined ? null : ratesOut(own, values(before.sample.own, before.i, before.at.service), rate),
    dests: config.dests.map((d, k) => {
      const old = was?.(k);
      return { address: d.address, port: d.port, counters: countersOut(dests[k]), rates: old === undefined ? null : ratesOut(dests[k], old, rate) };
    }),
  };
}

/**
 * The earlier values of the sample's service i's dest k: by position when
 * it is the same config (nothing about the service changed), otherwise by
 * address and port. A dest new since then has none (no rates, as a new
 * service).
 */
function earlierDests(s: ServiceSample, i: number, before: Earlier): (k: number) => U64[] | undefined {
  const old = before.sample;
  const from = old.destStart[before.i];
  if (old.services[before.i] === s.services[i]) return (k) => values(old.dests, from + k, before.at.dest);
  const endpoint = (d: { address: string; port: number }) => `${d.address}:${d.port}`;
  const index = new Map(old.services[before.i].dests.map((d, k) => [endpoint(d), from + k]));
  return (k) => {
    const row = index.get(endpoint(s.services[i].dests[k]));
    return row === undefined ? undefined : values(old.dests, row, before.at.dest);
  };
}

function countersOut(v: readonly U64[]): Record<string, number | object> {
  const out: Record<string, number | object> = {};
  COUNTER_FIELDS.forEach((f, n) => (out[f] = wire(v[n])));
  return out;
}

function ratesOut(now: readonly U64[], before: readonly U64[], rate: RateFn): Record<string, number> {
  const out: Record<string, number> = {};
  RATE_FIELDS.forEach((f, n) => (out[`${f}_per_s`] = rate(now[n], before[n])));
  return out;
}
