// SPDX-License-Identifier: Apache-2.0
//
// The check loop of one dest: a check, then the next one `interval` after
// the previous one started (or at once if it took longer), so checks of
// one dest never overlap and a slow server is not piled up on. The first
// check waits `firstDelayMs`, which the manager spreads over the interval
// so that a config with many dests does not check them all at once. Every
// check takes a turn of the manager's CheckLimiter (limiter.ts).

import type { HealthCheckConfig } from '../config/schema';
import { runCheck, type CheckResult, type CheckTarget } from './check';
import type { CheckLimiter } from './limiter';

export class Prober {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    readonly target: CheckTarget,
    readonly hc: HealthCheckConfig,
    private readonly onResult: (r: CheckResult) => void,
    private readonly limiter: CheckLimiter,
    /** The limiter's group: the dest's service (services take turns). */
    private readonly group = '',
  ) {}

  /** Starts the loop; the first check runs after firstDelayMs. Event loop only. */
  start(firstDelayMs: number): void {
    this.schedule(firstDelayMs);
  }

  /** Stops the loop; a check in flight finishes but its result is dropped. Idempotent. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.run(), delayMs);
    // Checks alone must not keep the process alive.
    this.timer.unref();
  }

  private async run(): Promise<void> {
    // The interval counts from when the check ran, not from when it was due.
    let started = 0;
    const result = await this.limiter.run(() => {
      started = Date.now();
      return runCheck(this.target, this.hc);
    }, () => this.stopped, this.group);
    if (this.stopped || result === undefined) return;
    this.onResult(result);
    this.schedule(Math.max(0, this.hc.interval - (Date.now() - started)));
  }
}
