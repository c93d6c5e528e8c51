// SPDX-License-Identifier: Apache-2.0
//
// At most `max` checks in flight across every dest; the rest wait their
// turn, first come first served. A check holds a socket from its start
// to its end, and its end is only seen when the control thread gets to
// it: at 80,000 dests checked every 2 s the thread falls behind, and the
// sockets of checks it has not caught up with pile up until the process
// runs out of file descriptors, which then fails the API's state-file
// writes too (bench/control-health found it). Waiting here instead
// stretches the checks' intervals, and a check's timeout starts only when
// it runs, so a queue never fails a dest.

/** control.health.max_in_flight's default. */
export const DEFAULT_MAX_IN_FLIGHT = 1024;

export class CheckLimiter {
  private running = 0;
  private readonly queue: (() => void)[] = [];
  private head = 0;

  constructor(readonly max: number) {}

  /** Checks running now. */
  get inFlight(): number {
    return this.running;
  }

  /** Checks waiting for a turn. */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  /** Runs task once fewer than max run, and settles as it does. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.max) await new Promise<void>((resolve) => this.queue.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      this.next();
    }
  }

  /** A finished check hands its turn to the first waiting one (running stays counted), or frees it. */
  private next(): void {
    if (this.head < this.queue.length) {
      const wake = this.queue[this.head++];
      // An array shifted from the front is a copy per shift: drop the taken part in one go now and then.
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      wake();
      return;
    }
    this.running--;
  }
}
