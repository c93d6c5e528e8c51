// SPDX-License-Identifier: Apache-2.0
//
// A check's timeout, for its checker to stop at. An AbortSignal would do,
// but at 80,000 dests its cost showed: a controller and an EventTarget
// per check, and a socket given a signal creates an Error, stack trace
// and all, when it closes before it ends, which is every TCP check
// (bench/control-health's profile: a tenth of the control thread, and
// much of its garbage collection). This is one timer and one callback.
//
// It expires only after the I/O that came in before it has been read:
// timers run before I/O in each turn of the event loop, so after the
// control thread was held up (a large Apply, a scrape at 80,000 dests) a
// check whose answer came in time would otherwise fail with its timeout,
// and a busy balancer would take healthy dests out. (For a check of one
// round trip: an HTTP check held up between its steps can still run out.)

export class Deadline {
  private readonly timer: NodeJS.Timeout;
  private expire: (() => void) | undefined;
  private done = false;

  constructor(ms: number) {
    this.timer = setTimeout(() => setImmediate(() => this.fire()), ms);
  }

  /** Calls fn when the time is up (at most once, never after end()). One callback per deadline. */
  onExpire(fn: () => void): void {
    this.expire = fn;
  }

  /** The check is over: nothing fires any more. */
  end(): void {
    this.done = true;
    clearTimeout(this.timer);
  }

  private fire(): void {
    if (this.done) return;
    this.done = true;
    this.expire?.();
  }
}
