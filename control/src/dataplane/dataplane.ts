// SPDX-License-Identifier: Apache-2.0
//
// The typed dataplane: one per process (DPDK initialises once).
//
// Everything here runs on the main thread, which is the EAL main lcore, and
// returns at once: applying a snapshot is a pointer swap, old snapshots are
// reclaimed from a timer once the workers have moved on, and worker
// requests resolve when a poll finds them completed. Nothing here blocks
// the event loop, so a slow handler elsewhere never stalls forwarding.

import { execFileSync } from 'node:child_process';

import { buildEalArgs, controlCpu } from '../config/eal';
import type { DestConfig, FulcrumConfig, HealthFailAction, ServiceConfig, SnatConfig } from '../config/schema';
import { observeApplyStage, secondsSince } from '../metrics/apply';
import { loadAddon, type ConnFilter, type ConnRow, type EngineStartInfo, type NativeAddon, type NeighbourRow, type RequestKind, type RequestResult } from './addon';
import { StatView, type CounterSet, type RowSums } from './counters';
import { checkSpecLayout } from './spec-table';
import { IdAllocator } from './ids';
import { PositionalMemo } from './positional';
import { DestOverlay, destKey, destKeys, laddrKeys, serviceKey, serviceLaddrKeys, type SpecIds } from './services';
import { ServiceSpecCache } from './spec-cache';
import { snatDestKey, snatKey, snatLaddrKeys, snatSpecs } from './snat';
import { engineStartSpec, snapshotSpec } from './spec';

const RECLAIM_INTERVAL_MS = 100;
const POLL_INTERVAL_MS = 1;
const REQUEST_TIMEOUT_MS = 5000;

export interface ServiceListing {
  config: ServiceConfig;
  stats: CounterSet;
  dests: { config: DestConfig; stats: CounterSet }[];
}

/**
 * Where each running service's and dest's statistics are: the row of the
 * services' and dests' StatViews (stats). One object per applied config:
 * the same until the next apply, so a reader may key what it derives
 * from the rows (label texts) by it.
 */
export interface StatRowIds {
  services: { name: string; id: number }[];
  dests: { service: string; address: string; port: number; weight: number; id: number }[];
}

/**
 * Running services' and their dests' statistics, summed over the workers
 * and read at one instant (StatView.sums).
 */
export interface ServiceSample {
  /** The services sampled, as running (health verdicts applied), in the order asked for. */
  services: readonly ServiceConfig[];
  /** Names asked for that are not running. */
  missing: string[];
  /** Row i: services[i]'s own row. */
  own: RowSums;
  /** services[i]'s dests are rows destStart[i] to destStart[i + 1] - 1, in its dests' order. */
  dests: RowSums;
  destStart: number[];
  /** The fields of own's and dests' rows (StatView.names()). */
  fields: { service: readonly string[]; dest: readonly string[] };
}

export interface LaddrListing {
  address: string;
  /** Per worker: used, capacity, exhausted, conns. */
  workers: CounterSet[];
}

/**
 * A pool's level now. Per worker (lcore): "connections" (connections and
 * persistence templates share dataplane.max_conns objects; `templates` says
 * how many of `used` are templates) and "synproxy" (the SYN proxy's
 * per-connection state). Per port: "mbufs" (its dataplane.mbufs packet
 * buffers). Local-address port pools are in laddrs().
 */
export type PoolLevel =
  | { pool: 'connections'; lcore: number; used: number; capacity: number; templates: number }
  | { pool: 'synproxy'; lcore: number; used: number; capacity: number }
  | { pool: 'mbufs'; port: string; used: number; capacity: number };

interface Pending {
  resolve: (r: RequestResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class Dataplane {
  private readonly addon: NativeAddon;
  private info: EngineStartInfo | undefined;
  private views: { counters: StatView; services: StatView; dests: StatView; laddrs: StatView } | undefined;
  private serviceIds: IdAllocator | undefined;
  private applied: { services: readonly ServiceConfig[]; snat: SnatConfig[]; ids: SpecIds } | undefined;
  private rowIds: { of: object; rows: StatRowIds } | undefined;
  private byName = new WeakMap<readonly ServiceConfig[], Map<string, ServiceConfig>>();
  /** Health verdicts taken since the last publication: published at the end of this event-loop turn. */
  private verdictsPending = false;
  private destIds: IdAllocator | undefined;
  private laddrIds: IdAllocator | undefined;
  /** The config last given to apply(), before the overlay. */
  private desired: FulcrumConfig | undefined;
  private maxConns = 0;
  private readonly overlay = new DestOverlay();
  private readonly specCache = new ServiceSpecCache();
  /** Each service's key, dest keys and laddr keys, by position in the last list applied. */
  private readonly serviceKeyMemo = new PositionalMemo(serviceKey);
  private readonly destKeyMemo = new PositionalMemo(destKeys);
  private readonly laddrKeyMemo = new PositionalMemo(serviceLaddrKeys);
  private reclaimTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly pending = new Map<number, Pending>();
  private stopped = false;

  constructor(
    addon: NativeAddon = loadAddon(),
    private readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {
    this.addon = addon;
  }

  /**
   * Pins this process to the control CPU, initialises EAL, starts ports and
   * workers and publishes the config's first snapshot. Throws with the
   * engine's message on failure.
   */
  start(cfg: FulcrumConfig): EngineStartInfo {
    checkSpecLayout(this.addon.specLayout());
    pinToControlCpu(controlCpu(cfg));
    this.addon.initEal(buildEalArgs(cfg));
    this.info = this.addon.start(engineStartSpec(cfg));
    const layouts = this.addon.statNames();
    this.views = {
      counters: new StatView(this.addon.counters(), this.addon.counterNames(), 1),
      services: new StatView(this.addon.serviceStats(), layouts.service, cfg.dataplane.max_services),
      dests: new StatView(this.addon.destStats(), layouts.dest, cfg.dataplane.max_dests),
      laddrs: new StatView(this.addon.laddrStats(), layouts.laddr, cfg.dataplane.max_laddrs),
    };
    this.serviceIds = new IdAllocator(cfg.dataplane.max_services, 'service');
    this.destIds = new IdAllocator(cfg.dataplane.max_dests, 'dest');
    this.laddrIds = new IdAllocator(cfg.dataplane.max_laddrs, 'laddr');
    this.maxConns = cfg.dataplane.max_conns;
    this.apply(cfg);
    this.reclaimTimer = setInterval(() => this.addon.reclaim(), RECLAIM_INTERVAL_MS);
    this.reclaimTimer.unref();
    // Workers must be joined before the process (and DPDK) goes away.
    process.once('exit', () => this.stop());
    return this.info;
  }

  /**
   * Publishes the config's addresses, routes and services; returns the
   * generation. Existing connections are untouched; ids of removed services
   * and dests are reused only once no connection refers to them.
   */
  apply(cfg: FulcrumConfig): number {
    const started = process.hrtime.bigint();
    const services = this.overlay.filter(cfg.services);
    const allocators = [this.serviceIds, this.destIds, this.laddrIds] as IdAllocator[];
    let ids: SpecIds;
    let generation: number;
    try {
      ids = this.assignIds(services, cfg.snat);
      const spec = snapshotSpec(cfg, this.specCache.specs(services, ids, this.overlay), snatSpecs(cfg, ids));
      generation = this.addon.apply(spec);
    } catch (err) {
      // Refused: the running snapshot keeps its ids, and so must the
      // allocators (a kept service is sent by id with the ids it has).
      for (const a of allocators) a.undo();
      throw err;
    }
    for (const a of allocators) a.commit();
    this.specCache.sent();
    // Every publication carries the overlay: the verdicts taken so far with it.
    this.verdictsPending = false;
    // Everything up to here but the C++ build and publication is "spec".
    const times = this.addon.lastApplyTimes();
    observeApplyStage('spec', secondsSince(started) - times.build - times.publish);
    observeApplyStage('snapshot_build', times.build);
    observeApplyStage('publish', times.publish);
    this.applied = { services, snat: cfg.snat, ids };
    this.desired = cfg;
    this.overlay.retain(cfg.services);
    return generation;
  }

  /** Ids for these services and snat rules (the allocators' assigns, until commit or undo). */
  private assignIds(services: readonly ServiceConfig[], snat: readonly SnatConfig[]): SpecIds {
    const { services: svcStats, dests: destStats, laddrs: laddrStats } = this.stats;
    const [live, active, inactive, persistent] = ['live', 'active', 'inactive', 'persistent'].map((f, i) =>
      (i === 0 ? svcStats : destStats).field(f),
    );
    const serviceKeys = this.serviceKeyMemo.map(services);
    for (const r of snat) serviceKeys.push(snatKey(r));
    const serviceIds = (this.serviceIds as IdAllocator).assign(serviceKeys, (id) => svcStats.sumNumber(id, live) === 0);
    // Each service's dest keys (made once per config object), then the snat rules'.
    const groups = this.destKeyMemo.map(services);
    groups.push(snat.map(snatDestKey));
    // Persistence templates refer to their dest by id too. The counts are
    // unsigned, so their sum is 0 exactly when the doubles' is (no BigInt:
    // every publication asks this of every id still draining).
    const destIdle = (id: number) =>
      destStats.sumNumber(id, active) + destStats.sumNumber(id, inactive) + destStats.sumNumber(id, persistent) === 0;
    const destIds = (this.destIds as IdAllocator).assignGroups(groups, destIdle);
    // A local address's pool keeps its ports until no connection holds one.
    const used = laddrStats.field('used');
    const laddrs = [...new Set([...laddrKeys(this.laddrKeyMemo.map(services)), ...snatLaddrKeys(snat)])];
    const laddrIds = (this.laddrIds as IdAllocator).assign(laddrs, (id) => laddrStats.sumNumber(id, used) === 0);
    return { services: serviceIds, dests: destIds, laddrs: laddrIds };
  }

  /**
   * Health checks' verdict on a dest: unavailable ones are inhibited or
   * removed (`action`) in the running config and in every config applied
   * later while they are configured. True when that changes anything;
   * false when nothing changed or the service has no such dest. The
   * verdicts of one event-loop turn are published together, at its end:
   * a rack going down takes a thousand dests out in a moment, and one
   * publication each (a pass over 10,000 services) would hold the
   * control thread for as many. Control thread only.
   */
  setDestAvailable(
    service: string,
    dest: { address: string; port: number },
    available: boolean,
    action: HealthFailAction = 'inhibit',
    source = 'active',
  ): boolean {
    const cfg = this.desired;
    const svc = cfg === undefined ? undefined : this.named(cfg.services).get(service);
    const d = svc?.dests.find((x) => x.address === dest.address && x.port === dest.port);
    if (svc === undefined || d === undefined) return false;
    if (!this.overlay.set(destKey(svc, d), available ? undefined : action, source)) return false;
    if (!this.verdictsPending) {
      this.verdictsPending = true;
      setImmediate(() => this.publishVerdicts());
    }
    return true;
  }

  /**
   * The verdicts no publication has carried yet, in one. Refused, they
   * stay in the overlay for the next publication, and the next verdict
   * schedules one again.
   */
  private publishVerdicts(): void {
    if (!this.verdictsPending || this.stopped || this.desired === undefined) return;
    this.verdictsPending = false;
    try {
      this.apply(this.desired);
    } catch (err) {
      this.log(`fulcrum: health: cannot publish the dests' new availability: ${(err as Error).message}`);
    }
  }

  /**
   * The running services (those `which` keeps) with their statistics
   * summed over the workers. Summing costs per dest: a caller that wants a
   * few services says which, rather than filtering 80,000 dests' sums.
   */
  services(which?: (s: ServiceConfig) => boolean): ServiceListing[] {
    if (this.applied === undefined) return [];
    const { services, ids } = this.applied;
    const stats = this.stats;
    return (which === undefined ? services : services.filter(which)).map((s) => ({
      config: s,
      stats: stats.services.total(ids.services.get(serviceKey(s)) as number),
      dests: destKeys(s).map((key, j) => ({ config: s.dests[j], stats: stats.dests.total(ids.dests.get(key) as number) })),
    }));
  }

  /** The services named (every running one without names) with their statistics: see ServiceSample. */
  sampleServices(names?: readonly string[]): ServiceSample {
    const { services: serviceStats, dests: destStats } = this.stats;
    const applied = this.applied;
    const named: ServiceConfig[] = [];
    const missing: string[] = [];
    for (const name of names ?? []) {
      const s = this.runningService(name);
      if (s === undefined) missing.push(name);
      else named.push(s);
    }
    // Nothing applied yet: no services (and every name missing).
    const services = names === undefined ? (applied?.services ?? []) : named;
    const serviceRows: number[] = [];
    const destRows: number[] = [];
    const destStart = [0];
    for (const s of services) {
      const ids = (applied as NonNullable<typeof applied>).ids;
      serviceRows.push(ids.services.get(serviceKey(s)) as number);
      for (const key of destKeys(s)) destRows.push(ids.dests.get(key) as number);
      destStart.push(destRows.length);
    }
    return {
      services, missing, own: serviceStats.sums(serviceRows), dests: destStats.sums(destRows), destStart,
      fields: { service: serviceStats.names(), dest: destStats.names() },
    };
  }

  /** The running service named `name`, found in a map made once per applied config. */
  private runningService(name: string): ServiceConfig | undefined {
    return this.applied === undefined ? undefined : this.named(this.applied.services).get(name);
  }

  /** These services by name, in a map made once per list. */
  private named(services: readonly ServiceConfig[]): Map<string, ServiceConfig> {
    let map = this.byName.get(services);
    if (map === undefined) {
      map = new Map(services.map((s) => [s.name, s]));
      this.byName.set(services, map);
    }
    return map;
  }

  /** The running services' and dests' statistics rows (see StatRowIds). */
  statRows(): StatRowIds {
    const applied = this.applied;
    if (applied === undefined) return { services: [], dests: [] };
    if (this.rowIds?.of !== applied) {
      const { services, ids } = applied;
      const rows: StatRowIds = { services: [], dests: [] };
      for (const s of services) {
        rows.services.push({ name: s.name, id: ids.services.get(serviceKey(s)) as number });
        destKeys(s).forEach((key, j) => {
          const d = s.dests[j];
          rows.dests.push({ service: s.name, address: d.address, port: d.port, weight: d.weight, id: ids.dests.get(key) as number });
        });
      }
      this.rowIds = { of: applied, rows };
    }
    return this.rowIds.rows;
  }

  /** The SNAT rules with their statistics (a service row) summed over the workers. */
  snatRules(): { config: SnatConfig; stats: CounterSet }[] {
    if (this.applied === undefined) return [];
    const { snat, ids } = this.applied;
    return snat.map((r) => ({ config: r, stats: this.stats.services.total(ids.services.get(snatKey(r)) as number) }));
  }

  /** Every local address in use with its port pool per worker: used, capacity, refusals, connections. */
  laddrs(): LaddrListing[] {
    if (this.applied === undefined) return [];
    const view = this.stats.laddrs;
    return [...this.applied.ids.laddrs].map(([address, id]) => ({
      address,
      workers: this.startInfo.workerLcores.map((_, w) => view.row(w, id)),
    }));
  }

  /**
   * Every pool's level now (see PoolLevel), workers in lcore order, then
   * ports. A worker's connections are its dest rows' active + inactive +
   * persistent over every dest id, draining ones included: each
   * connection and template is in exactly one such row.
   */
  pools(): PoolLevel[] {
    const dests = this.stats.dests;
    const [active, inactive, persistent] = ['active', 'inactive', 'persistent'].map((f) => dests.field(f));
    const engine = this.addon.pools();
    const capacity = this.maxConns;
    return [
      ...this.startInfo.workerLcores.flatMap((lcore, w): PoolLevel[] => {
        const templates = dests.columnSum(w, persistent);
        const used = dests.columnSum(w, active) + dests.columnSum(w, inactive) + templates;
        return [
          { pool: 'connections', lcore, used, capacity, templates },
          { pool: 'synproxy', lcore, ...engine.synproxy[w] },
        ];
      }),
      ...engine.mbufs.map((m, i): PoolLevel => ({ pool: 'mbufs', port: this.startInfo.ports[i].name, ...m })),
    ];
  }

  /**
   * The ids the running snapshot gives services (by name) and dests (by
   * `service|address|port`): connection rows and filters carry ids.
   */
  ids(): { services: ReadonlyMap<string, number>; dests: ReadonlyMap<string, number> } {
    return { services: this.applied?.ids.services ?? new Map(), dests: this.applied?.ids.dests ?? new Map() };
  }

  /** Zero-copy statistics: per-lcore counters, per-service and per-dest rows. */
  get stats(): { counters: StatView; services: StatView; dests: StatView; laddrs: StatView } {
    if (this.views === undefined) throw new Error('the dataplane is not started');
    return this.views;
  }

  get counters(): StatView {
    return this.stats.counters;
  }

  get startInfo(): EngineStartInfo {
    if (this.info === undefined) throw new Error('the dataplane is not started');
    return this.info;
  }

  /** Every worker's neighbour table, gathered through the request rings. */
  async neighbours(): Promise<{ worker: number; rows: NeighbourRow[] }[]> {
    const results = await Promise.all(this.eachWorker('neighbours'));
    return results.map((r) => ({ worker: r.worker, rows: r.neighbours ?? [] }));
  }

  /** Every worker's connections matching the filter, in worker order. */
  async connections(filter: ConnFilter = {}): Promise<ConnRow[]> {
    const results = await Promise.all(this.eachWorker('conns', filter));
    return results.flatMap((r) => r.conns ?? []);
  }

  async zeroCounters(): Promise<void> {
    await Promise.all(this.eachWorker('zeroCounters'));
  }

  /** Joins the workers and closes the ports. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.reclaimTimer);
    clearTimeout(this.pollTimer);
    this.addon.stop();
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error('the dataplane stopped'));
    }
    this.pending.clear();
  }

  private eachWorker(kind: RequestKind, filter?: ConnFilter): Promise<RequestResult>[] {
    return this.startInfo.workerLcores.map((_, w) => this.request(w, kind, filter));
  }

  private request(worker: number, kind: RequestKind, filter?: ConnFilter): Promise<RequestResult> {
    const id = this.addon.request(worker, kind, filter);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`worker ${worker} did not answer a ${kind} request in ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.schedulePoll();
    });
  }

  // Polls the completion ring only while requests are outstanding.
  private schedulePoll(): void {
    if (this.pollTimer !== undefined) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      for (const r of this.addon.poll()) {
        const p = this.pending.get(r.id);
        if (p === undefined) continue;
        clearTimeout(p.timer);
        this.pending.delete(r.id);
        p.resolve(r);
      }
      if (this.pending.size > 0) this.schedulePoll();
    }, POLL_INTERVAL_MS);
  }
}

// EAL pins the main thread, but V8's and libuv's threads already exist and
// may run anywhere; move every thread of this process to the control CPU
// so none of them competes with a worker lcore.
function pinToControlCpu(cpu: number): void {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });
  } catch (err) {
    throw new Error(`cannot pin the control threads to CPU ${cpu} with taskset: ${(err as Error).message}`);
  }
}
