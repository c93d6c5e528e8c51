// SPDX-License-Identifier: Apache-2.0
//
// Health checks of every dest that has one (its own health_check, else its
// service's). One Prober per dest runs the checks; the rise/fall state
// machine (state.ts) turns results into a verdict; a change of verdict
// inhibits or removes the dest in the dataplane (through the sink), is
// published on the event bus and logged.
//
// sync() is called with every applied config (start, SIGHUP, the API): it
// starts probers for new dests, keeps those whose check is unchanged
// (with their state and counts), restarts changed ones keeping the
// verdict, and stops the rest. It looks only at services whose config
// object changed, so its cost is what the publication changed. A dest starts healthy, as in keepalived:
// a config apply must not take every dest out until its first checks
// pass.

import type { HealthCheckConfig, HealthFailAction, ServiceConfig } from '../config/schema';
import { destKeyOf } from '../dataplane/services';
import { events } from '../events';
import type { CheckResult, CheckTarget } from './check';
import { CheckLimiter, DEFAULT_MAX_IN_FLIGHT } from './limiter';
import { Prober } from './prober';
import { nextState, type HealthState } from './state';

const HOST_TROUBLE_LOG_MS = 60_000;

/** Applies a verdict to the dataplane (Dataplane.setDestAvailable). */
export type AvailabilitySink = (service: string, dest: CheckTarget, available: boolean, action: HealthFailAction) => void;

/** One checked dest, as metrics and listings show it. */
export interface DestHealth {
  service: string;
  /** `address:port` of the dest (not of the checked port). */
  dest: string;
  healthy: boolean;
  /** The last check's result. */
  reason: string;
  /** Checks done since this dest's check (re)started, by result. */
  successes: number;
  failures: number;
}

interface Wanted {
  service: string;
  dest: CheckTarget;
  hc: HealthCheckConfig;
}

interface Entry extends Wanted {
  prober: Prober;
  state: HealthState;
  reason: string;
  successes: number;
  failures: number;
}

/** The checks of one service, for the config object they were made for. */
interface ServiceChecks {
  config: ServiceConfig;
  /** By dest key. */
  entries: Map<string, Entry>;
  /** The sync() that last listed the service. */
  seen: number;
}

export class HealthManager {
  /** By service name. */
  private services = new Map<string, ServiceChecks>();
  /** The services of the last sync, in config order (states() lists them so). */
  private order: readonly ServiceConfig[] = [];
  private epoch = 0;
  /** When "checks cannot run" was last logged. */
  private hostTroubleLogged = -Infinity;

  constructor(
    private readonly sink: AvailabilitySink,
    private readonly log: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
    /** Every check's turn (control.health.max_in_flight). */
    readonly limiter = new CheckLimiter(DEFAULT_MAX_IN_FLIGHT),
  ) {}

  /**
   * Makes the running checks those of `services`. A service that is the
   * very config object of the last sync is passed over: a config object
   * never changes (copy on write), and a publication at 10,000 services
   * changes a few. Control thread only.
   */
  sync(services: readonly ServiceConfig[]): void {
    const epoch = ++this.epoch;
    const fresh: Entry[] = [];
    for (const s of services) {
      const old = this.services.get(s.name);
      if (old?.config === s) {
        old.seen = epoch;
        continue;
      }
      const entries = this.syncService(s, old?.entries ?? new Map(), fresh);
      this.services.set(s.name, { config: s, entries, seen: epoch });
    }
    for (const [name, old] of this.services) {
      if (old.seen === epoch) continue;
      this.services.delete(name);
      for (const e of old.entries.values()) e.prober.stop();
    }
    this.order = services;
    // Spread the first checks of new probers over their interval.
    fresh.forEach((e, i) => e.prober.start(Math.floor((i / fresh.length) * e.hc.interval)));
  }

  /** The entries of s's checks now, from its entries until now; new ones go to fresh too. */
  private syncService(s: ServiceConfig, before: Map<string, Entry>, fresh: Entry[]): Map<string, Entry> {
    const next = new Map<string, Entry>();
    for (const [key, w] of wantedChecks(s)) {
      const old = before.get(key);
      if (old !== undefined && sameCheck(old.hc, w.hc)) {
        next.set(key, old);
        continue;
      }
      old?.prober.stop();
      const entry = this.entry(w, old?.state.healthy ?? true);
      // A failed dest whose check changed stays failed, perhaps with another on_fail.
      if (!entry.state.healthy) this.apply(entry);
      next.set(key, entry);
      fresh.push(entry);
    }
    for (const [key, old] of before) {
      if (next.has(key)) continue;
      old.prober.stop();
      // Its check went away but the dest stays: nothing says it is down any more.
      if (!old.state.healthy && configured(s, old)) this.restore(old);
    }
    return next;
  }

  /** Every checked dest now. */
  states(): DestHealth[] {
    const entries = this.order.flatMap((s) => [...(this.services.get(s.name)?.entries.values() ?? [])]);
    return entries.map((e) => ({
      service: e.service,
      dest: destLabel(e.dest),
      healthy: e.state.healthy,
      reason: e.reason,
      successes: e.successes,
      failures: e.failures,
    }));
  }

  /** Stops every check; dataplane state is left as it is. Idempotent. */
  stop(): void {
    for (const c of this.services.values()) for (const e of c.entries.values()) e.prober.stop();
    this.services.clear();
    this.order = [];
  }

  private entry(w: Wanted, healthy: boolean): Entry {
    const target = { address: w.dest.address, port: w.hc.port ?? w.dest.port };
    const prober = new Prober(target, w.hc, (r) => this.record(entry, r), this.limiter, w.service);
    const entry: Entry = { ...w, prober, state: { healthy, streak: 0 }, reason: 'not checked yet', successes: 0, failures: 0 };
    return entry;
  }

  private record(e: Entry, r: CheckResult): void {
    if (r.inconclusive) return this.notChecked(e, r);
    if (r.ok) e.successes++;
    else e.failures++;
    e.reason = r.reason;
    const was = e.state.healthy;
    e.state = nextState(e.state, r.ok, e.hc.rise, e.hc.fall);
    if (e.state.healthy === was) return;
    this.apply(e);
    events.publish({ kind: 'health', service: e.service, dest: destLabel(e.dest), healthy: e.state.healthy, reason: r.reason });
    const verdict = e.state.healthy ? 'up' : e.hc.on_fail === 'remove' ? 'down, removed' : 'down, inhibited';
    this.log(`fulcrum: health: ${e.service} ${destLabel(e.dest)} ${verdict} (${r.reason})`);
  }

  // The host could not run the check: no count, no verdict; said at most
  // once a minute, not once per dest (a host near its limit fails some
  // checks and not others).
  private notChecked(e: Entry, r: CheckResult): void {
    e.reason = r.reason;
    const now = Date.now();
    if (now - this.hostTroubleLogged < HOST_TROUBLE_LOG_MS) return;
    this.hostTroubleLogged = now;
    this.log(`fulcrum: health: checks cannot run (${r.reason}); verdicts are kept until they can`);
  }

  // The check of a failed dest went away: nothing says it is down any more.
  private restore(e: Entry): void {
    e.state = { healthy: true, streak: 0 };
    this.apply(e);
    events.publish({ kind: 'health', service: e.service, dest: destLabel(e.dest), healthy: true, reason: 'health check removed' });
    this.log(`fulcrum: health: ${e.service} ${destLabel(e.dest)} up (health check removed)`);
  }

  private apply(e: Entry): void {
    try {
      this.sink(e.service, e.dest, e.state.healthy, e.hc.on_fail);
    } catch (err) {
      this.log(`fulcrum: health: ${e.service} ${destLabel(e.dest)}: cannot apply: ${(err as Error).message}`);
    }
  }
}

/** s's checked dests, by dest key. */
function wantedChecks(s: ServiceConfig): Map<string, Wanted> {
  const wanted = new Map<string, Wanted>();
  for (const d of s.dests) {
    const hc = d.health_check ?? s.health_check;
    if (hc === undefined) continue;
    const dest = { address: d.address, port: d.port };
    wanted.set(keyOf(s.name, dest), { service: s.name, dest, hc });
  }
  return wanted;
}

function configured(s: ServiceConfig, e: Wanted): boolean {
  return s.dests.some((d) => d.address === e.dest.address && d.port === e.dest.port);
}

function keyOf(service: string, dest: CheckTarget): string {
  return destKeyOf(service, dest.address, dest.port);
}

function destLabel(dest: CheckTarget): string {
  return `${dest.address}:${dest.port}`;
}

// Parsed configs have their keys in schema order, so equal checks serialise equally.
function sameCheck(a: HealthCheckConfig, b: HealthCheckConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
