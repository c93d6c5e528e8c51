// SPDX-License-Identifier: Apache-2.0
//
// The read commands of the CLI over gRPC: `fulcrum list` (ipvsadm -L -n
// and its variants), `fulcrum conns` (ipvsadm -L -c -n), `fulcrum stats`
// (per-worker counters). --json prints what the API answered.

import { serviceIn } from '../api/convert';
import type { FulcrumApi } from '../api/client';
import type { Connection__Output } from '../api/gen/fulcrum/v1/Connection';
import type { Counters__Output } from '../api/gen/fulcrum/v1/Counters';
import type { Rates__Output } from '../api/gen/fulcrum/v1/Rates';
import type { Service__Output } from '../api/gen/fulcrum/v1/Service';
import type { ServiceStats__Output } from '../api/gen/fulcrum/v1/ServiceStats';
import { serviceSchema } from '../config/schema';
import type { CounterSet } from '../dataplane/counters';
import { formatConnections, formatListing, type ListedService, type ListingView, type RateSet } from './listing';
import { formatPools } from './pools';
import { formatTable } from './table';

/** The window `--rate` measures over. */
export const RATE_WINDOW_MS = 1000;

export interface ListOptions {
  view: ListingView;
  json: boolean;
  /** Only this service (NOT_FOUND when it is not running). */
  service?: string;
}

export async function listServices(api: FulcrumApi, opts: ListOptions): Promise<string> {
  const window = opts.view === 'rate' ? { seconds: 0, nanos: RATE_WINDOW_MS * 1e6 } : null;
  const name = opts.service;
  const [services, stats] = await Promise.all([
    name === undefined ? api.call('ListServices', {}).then((r) => r.services) : api.call('GetService', { name }).then((r) => (r.service === null ? [] : [r.service])),
    api.call('GetStats', { window, services: name === undefined ? [] : [name] }),
  ]);
  const byName = new Map(stats.services.map((s) => [s.name, s]));
  if (opts.json) return json({ services: services.map((s) => ({ service: s, stats: byName.get(s.name) ?? null })) });
  return formatListing(services.map((s) => listed(s, byName.get(s.name))), opts.view);
}

function listed(s: Service__Output, stats: ServiceStats__Output | undefined): ListedService {
  const config = serviceSchema.parse(serviceIn(s));
  const destStats = (address: string, port: number) => stats?.dests.find((d) => d.address === address && d.port === port);
  return {
    config,
    stats: counterSet(stats?.counters),
    rates: rateSet(stats?.rates),
    dests: config.dests.map((d) => {
      const ds = destStats(d.address, d.port);
      return { config: d, stats: counterSet(ds?.counters), rates: rateSet(ds?.rates) };
    }),
  };
}

function counterSet(c: Counters__Output | null | undefined): CounterSet {
  return Object.fromEntries(Object.entries(c ?? {}).map(([k, v]) => [k, BigInt(v as string)]));
}

function rateSet(r: Rates__Output | null | undefined): RateSet | undefined {
  if (!r) return undefined;
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k.replace(/_per_s$/, ''), v as number]));
}

export interface ConnsOptions {
  service?: string;
  client?: string;
  state?: string;
  templates: boolean;
  json: boolean;
}

export async function listConnections(api: FulcrumApi, opts: ConnsOptions): Promise<string> {
  const rows = await api.collect<Connection__Output>(
    api.client.ListConnections({
      service: opts.service ?? '',
      client_prefix: opts.client ?? '',
      state: opts.state ?? '',
      templates: opts.templates ? 'TEMPLATES_INCLUDE' : 'TEMPLATES_EXCLUDE',
    }),
  );
  if (opts.json) return json({ connections: rows });
  return formatConnections(
    rows.map((c) => ({
      ...c,
      laddr: c.laddr === '' ? undefined : c.laddr,
      proto: c.protocol as 'tcp' | 'udp' | 'group',
      expiresMs: c.expires_in === null ? 0 : Number(c.expires_in.seconds) * 1000 + c.expires_in.nanos / 1e6,
    })),
  );
}

/** Per-worker counters that are not zero (and always rx/tx), with a total, rates with --rate; then the pools and the laddr port pools. */
export async function workerStats(api: FulcrumApi, opts: { rate: boolean; json: boolean }): Promise<string> {
  const window = opts.rate ? { seconds: 0, nanos: RATE_WINDOW_MS * 1e6 } : null;
  const stats = await api.call('GetStats', { window, workers_only: true });
  if (opts.json) return json({ workers: stats.workers, local_addresses: stats.local_addresses, pools: stats.pools });
  const names = Object.keys(stats.workers[0]?.counters ?? {});
  type Worker = (typeof stats.workers)[number];
  const cell = (w: Worker, k: string) => (opts.rate ? String(Math.round(w.rates[k] ?? 0)) : w.counters[k]);
  const total = (k: string) =>
    opts.rate
      ? String(stats.workers.reduce((t, w) => t + Math.round(w.rates[k] ?? 0), 0))
      : String(stats.workers.reduce((t, w) => t + BigInt(w.counters[k]), 0n));
  const shown = names.filter((k) => /^(rx|tx)_packets$/.test(k) || total(k) !== '0');
  const header = [opts.rate ? 'counter/s' : 'counter', ...stats.workers.map((w) => `lcore ${w.lcore}`), 'total'];
  const counters = `${formatTable(header, shown.map((k) => [k, ...stats.workers.map((w) => cell(w, k)), total(k)]))}\n\npools:\n${formatPools(stats.pools)}`;
  if (stats.local_addresses.length === 0) return counters;
  const pools = stats.local_addresses.flatMap((l) =>
    l.workers.map((w) => [l.address, String(w.lcore), w.used, w.capacity, w.exhausted, w.conns]),
  );
  const header2 = ['local address', 'lcore', 'used', 'capacity', 'exhausted', 'conns'];
  return `${counters}\n\nlocal address port pools:\n${formatTable(header2, pools)}`;
}

/** The API's answer as JSON, without proto-loader's synthetic `_field` oneof markers. */
export function json(v: unknown): string {
  return JSON.stringify(v, (k, x: unknown) => (k.startsWith('_') ? undefined : x), 2);
}
