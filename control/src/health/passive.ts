// SPDX-License-Identifier: Apache-2.0
//
// Passive health checks: the dataplane counts, per dest, the connections
// the dest refused (an RST before it answered the SYN) and those it never
// answered (expired half-open); this watches those counts once a second
// for the services with `passive_check: true`. A dest whose counts moved
// is inhibited (no new connections; existing ones drain) for a back-off
// that starts at BACKOFF_MIN_MS and doubles each time the dest fails again
// soon after coming back, up to BACKOFF_MAX_MS; a dest that stays clean for
// FORGIVE_MS starts again from the minimum. It works beside the active
// checks (its verdict is a source of its own in the dest overlay): a dest
// is out while either says so.

import type { ServiceConfig } from '../config/schema';
import type { Dataplane } from '../dataplane/dataplane';
import { Watcher } from '../dataplane/watcher';
import { events } from '../events';

const INTERVAL_MS = 1000;
export const BACKOFF_MIN_MS = 2000;
export const BACKOFF_MAX_MS = 60_000;
const FORGIVE_MS = 60_000;

interface DestTrack {
  seen: bigint;        // resets + syn_timeouts at the last look
  backoffMs: number;   // the next inhibition's length
  until: number;       // inhibited until then (0: not inhibited)
  lastFailure: number;
}

export class PassiveChecker extends Watcher {
  private readonly tracks = new Map<string, DestTrack>();

  constructor(
    private readonly dp: Dataplane,
    private readonly log: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  ) {
    super(INTERVAL_MS);
  }

  /** One look at every watched dest; public so tests can drive the clock. */
  check(now = Date.now()): void {
    const live = new Set<string>();
    for (const { config: svc, dests } of this.dp.services((s) => s.passive_check === true)) {
      for (const { config: d, stats } of dests) {
        const key = `${svc.name}|${d.address}:${d.port}`;
        live.add(key);
        this.look(svc, d, key, (stats.resets ?? 0n) + (stats.syn_timeouts ?? 0n), now);
      }
    }
    for (const key of this.tracks.keys()) if (!live.has(key)) this.tracks.delete(key);
  }

  private look(svc: ServiceConfig, d: ServiceConfig['dests'][number], key: string, failures: bigint, now: number): void {
    const t = this.tracks.get(key);
    if (t === undefined) {
      this.tracks.set(key, { seen: failures, backoffMs: BACKOFF_MIN_MS, until: 0, lastFailure: -Infinity });
      return;
    }
    const dest = { address: d.address, port: d.port };
    const name = `${d.address}:${d.port}`;
    if (failures > t.seen) {
      const n = failures - t.seen;
      t.seen = failures;
      if (now - t.lastFailure > FORGIVE_MS) t.backoffMs = BACKOFF_MIN_MS;
      t.lastFailure = now;
      if (t.until === 0) {
        t.until = now + t.backoffMs;
        this.dp.setDestAvailable(svc.name, dest, false, 'inhibit', 'passive');
        const reason = `${n} connection(s) refused or unanswered; back in ${t.backoffMs / 1000} s`;
        this.log(`fulcrum: health: ${svc.name} ${name} down, inhibited (passive: ${reason})`);
        events.publish({ kind: 'health', service: svc.name, dest: name, healthy: false, reason: `passive: ${reason}` });
        t.backoffMs = Math.min(t.backoffMs * 2, BACKOFF_MAX_MS);
      }
      return;
    }
    if (t.until !== 0 && now >= t.until) {
      t.until = 0;
      this.dp.setDestAvailable(svc.name, dest, true, 'inhibit', 'passive');
      this.log(`fulcrum: health: ${svc.name} ${name} back (passive back-off over)`);
      events.publish({ kind: 'health', service: svc.name, dest: name, healthy: true, reason: 'passive: back-off over' });
    }
  }
}
