// SPDX-License-Identifier: Apache-2.0
//
// Watches the local-address port pools (FULLNAT/SNAT) so an operator sees
// exhaustion coming and knows when it happened: once a second it reads each
// worker's pool row (zero-copy, see counters.ts) and publishes a pool event
// and logs one line when a pool crosses HIGH of its capacity, when flows
// were refused because every port was taken, and when it is back under
// CLEAR. Refusals are logged at most once per LOG_EVERY_MS per pool, however
// many flows a flood makes the workers refuse.

import { events } from '../events';
import type { Dataplane } from './dataplane';
import { Watcher } from './watcher';

const INTERVAL_MS = 1000;
const HIGH = 0.9;
const CLEAR = 0.8;
const LOG_EVERY_MS = 10_000;

interface PoolState {
  exhausted: bigint;
  high: boolean;
  lastLog: number;
}

export class PoolWatch extends Watcher {
  private readonly state = new Map<string, PoolState>();

  constructor(
    private readonly dp: Dataplane,
    private readonly log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
  ) {
    super(INTERVAL_MS);
  }

  /** One pass over every pool; public so tests need not wait for the timer. */
  check(now = Date.now()): void {
    for (const { address, workers } of this.dp.laddrs()) {
      workers.forEach((row, worker) => {
        const key = `${address}/${worker}`;
        const s = this.state.get(key) ?? { exhausted: row.exhausted, high: false, lastLog: -Infinity };
        this.state.set(key, s);
        const used = Number(row.used);
        const capacity = Number(row.capacity);
        const pool = { kind: 'pool' as const, laddr: address, worker, used, capacity };
        if (row.exhausted > s.exhausted) {
          const refused = row.exhausted - s.exhausted;
          s.exhausted = row.exhausted;
          events.publish({ ...pool, level: 'exhausted' });
          if (now - s.lastLog >= LOG_EVERY_MS) {
            s.lastLog = now;
            this.log(`fulcrum: local address ${address}: worker ${worker} refused ${refused} new flow(s), all ${capacity} of its ports in use`);
          }
        }
        if (capacity === 0) return;
        if (!s.high && used >= HIGH * capacity) {
          s.high = true;
          events.publish({ ...pool, level: 'high' });
          this.log(`fulcrum: local address ${address}: worker ${worker} uses ${used} of ${capacity} ports`);
        } else if (s.high && used < CLEAR * capacity) {
          s.high = false;
          events.publish({ ...pool, level: 'clear' });
          this.log(`fulcrum: local address ${address}: worker ${worker} back to ${used} of ${capacity} ports`);
        }
      });
    }
  }
}
